// Settings: signing out, the sessions page, and deleting the account (password, then a
// confirmation; then signed out and home).
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useClient, useMutation } from "urql";
import { fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import { signOut } from "../../session/actions";
import { clearSession } from "../../session/store";
import { announce } from "../../session/sync";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";

const DeleteAccountMutation = graphql(`
  mutation DeleteAccount($password: String!) {
    deleteAccount(password: $password)
  }
`);

/** Sign out and the link to the sessions list. */
export function SignOutSection() {
  const client = useClient();
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const leave = async () => {
    setBusy(true);
    await signOut(client);
    navigate("/", { replace: true });
  };
  return (
    <section className="card account-section" aria-labelledby="signout-title">
      <h2 id="signout-title">Sessions</h2>
      <div className="link-row">
        <p className="muted">
          See where you are signed in, and sign other devices out, on the <Link to="/settings/sessions">sessions page</Link>.
        </p>
        <Button variant="outline" disabled={busy} onClick={() => void leave()}>
          {busy ? "Signing out…" : "Sign out"}
        </Button>
      </div>
    </section>
  );
}

/** Account deletion. */
export function DeleteAccountSection() {
  const navigate = useNavigate();
  const [password, setPassword] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [{ fetching, error }, remove] = useMutation(DeleteAccountMutation);
  const errors = fieldErrors(error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!confirming) {
      setConfirming(true);
      return;
    }
    const result = await remove({ password });
    if (result.data?.deleteAccount) {
      // The account and its sessions are gone: forget them here and in every tab.
      clearSession();
      announce({ type: "signed-out" });
      navigate("/", { replace: true });
    } else {
      setConfirming(false);
    }
  };

  return (
    <section id="delete-account" className="card account-section danger" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete your account</h2>
      <p className="section-lead">
        This deletes your profile, articles, comments, favorites and follows for good. It cannot be undone.
      </p>
      <ErrorNotice error={error} fields={["password"]} />
      <form className="form" onSubmit={submit} noValidate>
        <Field label="Your password" name="deletePassword" type="password" autoComplete="current-password" required value={password} onChange={(e) => { setPassword(e.target.value); setConfirming(false); }} error={errors.password} />
        {confirming && (
          <div className="notice notice-error" role="alert">
            <p>Are you sure? Everything of yours will be deleted.</p>
          </div>
        )}
        <div className="form-actions">
          {confirming && (
            <Button variant="ghost" onClick={() => setConfirming(false)}>
              Keep my account
            </Button>
          )}
          <Button type="submit" variant="danger" disabled={fetching || password === ""}>
            {fetching ? "Deleting…" : confirming ? "Yes, delete everything" : "Delete my account"}
          </Button>
        </div>
      </form>
    </section>
  );
}
