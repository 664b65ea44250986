// Forgot password: asks for the address and always answers the same way (the API does
// not tell whether an account has it).
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useMutation } from "urql";
import { fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";
import "./account.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const RequestPasswordResetMutation = graphql(`
  mutation RequestPasswordReset($email: String!) {
    requestPasswordReset(email: $email)
  }
`);

/** The forgot-password page. */
export default function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [{ fetching, error }, request] = useMutation(RequestPasswordResetMutation);
  const errors = fieldErrors(error);
  useDocumentTitle("Forgot your password?");

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await request({ email: email.trim() });
    if (result.data?.requestPasswordReset) setSentTo(email.trim());
  };

  return (
    <div className="container narrow account-page">
      <h1 className="page-title">Forgot your password?</h1>
      <p className="account-lead">Enter your email address and we will mail you a link to choose a new one.</p>
      <div className="card">
        {sentTo ? (
          <div className="outcome" role="status">
            <span className="outcome-mark ok" aria-hidden="true">✓</span>
            <h2>Check your inbox</h2>
            <p>
              If <strong>{sentTo}</strong> has an account, a mail is on its way with a link to reset your password. The link
              works once, for 30 minutes.
            </p>
            <div className="form-actions">
              <Button variant="ghost" onClick={() => setSentTo(null)}>
                Use another address
              </Button>
              <Link to="/login" className="btn btn-outline btn-normal">
                Back to sign in
              </Link>
            </div>
          </div>
        ) : (
          <>
            <ErrorNotice error={error} fields={["email"]} />
            <form className="form" onSubmit={submit} noValidate>
              <Field label="Email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
              <div className="form-actions spread">
                <Link to="/login">Back to sign in</Link>
                <Button type="submit" size="large" disabled={fetching || email.trim() === ""}>
                  {fetching ? "Sending…" : "Send the link"}
                </Button>
              </div>
            </form>
          </>
        )}
      </div>
    </div>
  );
}
