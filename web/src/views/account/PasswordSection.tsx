// Settings: changing the password (the other sessions end; this one gets new tokens).
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import { replaceTokens } from "../../session/actions";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";

const ChangePasswordMutation = graphql(`
  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {
      ...SessionPayload
    }
  }
`);

/** The password form. */
export function PasswordSection() {
  const [currentPassword, setCurrentPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [saved, setSaved] = useState(false);
  const [{ fetching, error }, change] = useMutation(ChangePasswordMutation);
  const errors = fieldErrors(error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    if (newPassword !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    const result = await change({ currentPassword, newPassword });
    const payload = result.data?.changePassword;
    if (payload) {
      replaceTokens(payload);
      setCurrentPassword("");
      setNewPassword("");
      setConfirm("");
      setSaved(true);
    }
  };

  return (
    <section className="card account-section" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <p className="section-lead">Changing it signs out every other device; this one stays signed in.</p>
      <ErrorNotice error={error} fields={["currentPassword", "newPassword"]} />
      <form className="form" onSubmit={submit} noValidate>
        <Field label="Current password" name="currentPassword" type="password" autoComplete="current-password" required value={currentPassword} onChange={(e) => setCurrentPassword(e.target.value)} error={errors.currentPassword} />
        <div className="field-row">
          <Field label="New password" name="newPassword" type="password" autoComplete="new-password" required hint="8 to 128 characters." value={newPassword} onChange={(e) => setNewPassword(e.target.value)} error={errors.newPassword} />
          <Field label="Repeat the new password" name="confirmPassword" type="password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} error={mismatch ? "The two passwords differ." : undefined} />
        </div>
        <div className="form-actions">
          {saved && (
            <p className="saved-note" role="status">
              Password changed. Your other sessions were signed out.
            </p>
          )}
          <Button type="submit" disabled={fetching || currentPassword === "" || newPassword === ""}>
            {fetching ? "Changing…" : "Change password"}
          </Button>
        </div>
      </form>
    </section>
  );
}
