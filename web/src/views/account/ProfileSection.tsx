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

/** The profile form; saves only what changed. */
export function ProfileSection({ viewer }: { viewer: ViewerSettingsFragment }) {
  const [username, setUsername] = useState(viewer.username);
  const [image, setImage] = useState(viewer.image ?? "");
  const [bio, setBio] = useState(viewer.bio ?? "");
  const [saved, setSaved] = useState(false);
  const [{ fetching, error }, update] = useMutation(UpdateViewerMutation);
  const errors = fieldErrors(error);
  const changed = username !== viewer.username || image !== (viewer.image ?? "") || bio !== (viewer.bio ?? "");

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
      setUsername(user.username);
      setImage(user.image ?? "");
      setBio(user.bio ?? "");
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
          <Field label="Username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} error={errors.username} />
          <Field label="Avatar URL" name="image" type="url" inputMode="url" placeholder="https://…" value={image} onChange={(e) => setImage(e.target.value)} error={errors.image} />
        </div>
        <Field label="Bio" name="bio" multiline rows={4} placeholder="A few words about you" value={bio} onChange={(e) => setBio(e.target.value)} error={errors.bio} />
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
