// Settings: the public profile (username, avatar URL, bio).
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { fieldErrors } from "../../api/errors";
import type { ViewerSettingsFragment } from "../../gql/graphql";
import { updateSessionUser } from "../../session/store";
import { Avatar } from "../../ui/Avatar";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";
import { UpdateViewerMutation } from "./settingsDocuments";

type Edits = Partial<Record<"username" | "image" | "bio", string>>;

/** The profile form; saves only what changed. A field shows the saved value until it is
 * edited (so a value that arrives later, after a partial cached read, is never hidden by
 * a stale copy). */
export function ProfileSection({ viewer }: { viewer: ViewerSettingsFragment }) {
  const [edits, setEdits] = useState<Edits>({});
  const [saved, setSaved] = useState(false);
  const [{ fetching, error }, update] = useMutation(UpdateViewerMutation);
  const errors = fieldErrors(error);
  const username = edits.username ?? viewer.username;
  const image = edits.image ?? viewer.image ?? "";
  const bio = edits.bio ?? viewer.bio ?? "";
  const changed = username !== viewer.username || image !== (viewer.image ?? "") || bio !== (viewer.bio ?? "");
  const edit = (field: keyof Edits) => (event: { target: { value: string } }) => {
    setSaved(false);
    setEdits((current) => ({ ...current, [field]: event.target.value }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const result = await update({
      input: {
        ...(username !== viewer.username ? { username: username.trim() } : {}),
        ...(image !== (viewer.image ?? "") ? { image: image.trim() || null } : {}),
        ...(bio !== (viewer.bio ?? "") ? { bio: bio.trim() || null } : {}),
      },
    });
    const user = result.data?.updateViewer;
    if (user) {
      updateSessionUser({ __typename: "User", id: user.id, username: user.username, image: user.image });
      setEdits({});
      setSaved(true);
    }
  };

  return (
    <section className="card account-section" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <p className="section-lead">What others see on your profile and next to your articles.</p>
      <div className="profile-preview">
        <Avatar username={username || viewer.username} image={image.startsWith("http") ? image : null} size="medium" />
        <span className="muted">{username || viewer.username}</span>
      </div>
      <ErrorNotice error={error} fields={["username", "image", "bio"]} />
      <form className="form" onSubmit={submit} noValidate>
        <div className="field-row">
          <Field label="Username" name="username" autoComplete="username" required value={username} onChange={edit("username")} error={errors.username} />
          <Field label="Avatar URL" name="image" type="url" inputMode="url" placeholder="https://…" value={image} onChange={edit("image")} error={errors.image} />
        </div>
        <Field label="Bio" name="bio" multiline rows={4} placeholder="A few words about you" value={bio} onChange={edit("bio")} error={errors.bio} />
        <div className="form-actions">
          {saved && !changed && (
            <p className="saved-note" role="status">
              Profile saved.
            </p>
          )}
          <Button type="submit" disabled={fetching || !changed}>
            {fetching ? "Saving…" : "Save profile"}
          </Button>
        </div>
      </form>
    </section>
  );
}
