// Reset password, from the emailed link (/reset-password?token=): a new password, then
// signed in with the session the API returns.
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useMutation } from "urql";
import { fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import { signIn } from "../../session/actions";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";
import "./account.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const ResetPasswordMutation = graphql(`
  mutation ResetPassword($token: String!, $newPassword: String!) {
    resetPassword(token: $token, newPassword: $newPassword) {
      ...SessionPayload
    }
  }
`);

/** The reset-password page. */
export default function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const navigate = useNavigate();
  const [newPassword, setNewPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [{ fetching, error }, reset] = useMutation(ResetPasswordMutation);
  const errors = fieldErrors(error);
  useDocumentTitle("Choose a new password");

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (newPassword !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    const result = await reset({ token, newPassword });
    const payload = result.data?.resetPassword;
    if (payload) {
      signIn(payload);
      navigate("/settings?reset=1", { replace: true });
    }
  };

  const badLink = !token || errors.token !== undefined;
  return (
    <div className="container narrow account-page">
      <h1 className="page-title">Choose a new password</h1>
      <p className="account-lead">Every device signed in to your account will be signed out.</p>
      <div className="card">
        {badLink ? (
          <div className="outcome" role="alert">
            <span className="outcome-mark fail" aria-hidden="true">!</span>
            <h2>This link does not work</h2>
            <p>{token ? "This link is invalid, expired or already used." : "The link has no token."} Reset links work once, for 30 minutes.</p>
            <div className="form-actions">
              <Link to="/forgot-password" className="btn btn-primary btn-normal">
                Get a new link
              </Link>
            </div>
          </div>
        ) : (
          <>
            <ErrorNotice error={error} fields={["newPassword", "token"]} />
            <form className="form" onSubmit={submit} noValidate>
              <Field label="New password" type="password" name="newPassword" autoComplete="new-password" required hint="8 to 128 characters." value={newPassword} onChange={(e) => setNewPassword(e.target.value)} error={errors.newPassword} />
              <Field label="Repeat the new password" type="password" name="confirmPassword" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} error={mismatch ? "The two passwords differ." : undefined} />
              <div className="form-actions">
                <Button type="submit" size="large" disabled={fetching || newPassword === ""}>
                  {fetching ? "Saving…" : "Set the new password"}
                </Button>
              </div>
            </form>
          </>
        )}
      </div>
    </div>
  );
}
