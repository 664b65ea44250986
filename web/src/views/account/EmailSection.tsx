// Settings: the email address (a change needs the current password) and its
// verification status, with "send the link again".
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import type { ViewerSettingsFragment } from "../../gql/graphql";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";
import { UpdateViewerMutation } from "./settingsDocuments";

const RequestEmailVerificationMutation = graphql(`
  mutation RequestEmailVerification {
    requestEmailVerification
  }
`);

/** The email form and the verification status. */
export function EmailSection({ viewer }: { viewer: ViewerSettingsFragment }) {
  const current = viewer.email ?? "";
  // The saved address until edited (it may arrive after a partial cached read).
  const [edited, setEdited] = useState<string | null>(null);
  const email = edited ?? current;
  const [currentPassword, setCurrentPassword] = useState("");
  const [saved, setSaved] = useState(false);
  const [{ fetching, error }, update] = useMutation(UpdateViewerMutation);
  const errors = fieldErrors(error);
  const changed = email.trim() !== current;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const result = await update({ input: { email: email.trim(), currentPassword } });
    if (result.data?.updateViewer) {
      setEdited(null);
      setCurrentPassword("");
      setSaved(true);
    }
  };

  return (
    <section className="card account-section" aria-labelledby="email-title">
      <h2 id="email-title">Email</h2>
      <p className="section-lead">Where sign-in links, password resets and the notifications you choose are sent.</p>
      <Verification verified={viewer.emailVerified === true} email={current} />
      <ErrorNotice error={error} fields={["email", "currentPassword"]} />
      <form className="form" onSubmit={submit} noValidate>
        <Field label="Email address" name="email" type="email" autoComplete="email" required value={email} onChange={(e) => { setSaved(false); setEdited(e.target.value); }} error={errors.email} />
        {changed && (
          <Field label="Current password" name="currentPassword" type="password" autoComplete="current-password" required hint="Changing your email needs your password." value={currentPassword} onChange={(e) => setCurrentPassword(e.target.value)} error={errors.currentPassword} />
        )}
        <div className="form-actions">
          {saved && !changed && (
            <p className="saved-note" role="status">
              Email changed. Confirm the new address from the link we mail you.
            </p>
          )}
          <Button type="submit" disabled={fetching || !changed || currentPassword === ""}>
            {fetching ? "Saving…" : "Change email"}
          </Button>
        </div>
      </form>
    </section>
  );
}

function Verification({ verified, email }: { verified: boolean; email: string }) {
  const [{ fetching, data, error }, request] = useMutation(RequestEmailVerificationMutation);
  if (verified) {
    return (
      <div className="verify-row">
        <span className="status status-ok" data-testid="email-status">
          ✓ Verified
        </span>
        <p className="muted">{email} is confirmed.</p>
      </div>
    );
  }
  return (
    <>
      <div className="verify-row">
        <span className="status status-warn" data-testid="email-status">
          Not verified
        </span>
        <p className="muted">Confirm {email} from the link we mailed you to get notifications by email.</p>
        {data?.requestEmailVerification ? (
          <p className="saved-note" role="status">
            Sent. Check your inbox.
          </p>
        ) : (
          <Button variant="outline" size="small" disabled={fetching} onClick={() => void request({})}>
            {fetching ? "Sending…" : "Send the link again"}
          </Button>
        )}
      </div>
      <ErrorNotice error={error} onRetry={() => void request({})} />
    </>
  );
}
