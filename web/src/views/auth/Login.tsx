// Sign in: email and password; then back where the user came from (?next=) or home.
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useMutation } from "urql";
import { errorCode, fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import { signIn } from "../../session/actions";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";
import { safeNext } from "./safeNext";
import "./auth.css";

const LoginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      ...SessionPayload
    }
  }
`);

/** The sign-in page. */
export default function Login() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [{ fetching, error }, login] = useMutation(LoginMutation);
  const errors = fieldErrors(error);
  const wrongCredentials = errorCode(error) === "UNAUTHENTICATED";

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await login({ input: { email, password } });
    const payload = result.data?.login;
    if (payload) {
      signIn(payload);
      navigate(safeNext(params.get("next")), { replace: true });
    }
  };

  return (
    <div className="container narrow auth-page">
      <h1 className="page-title">Sign in</h1>
      <p className="auth-switch">
        <Link to="/register">Need an account?</Link>
      </p>
      <div className="card">
        {wrongCredentials ? (
          <div className="notice notice-error" role="alert">
            <p>That email and password do not match an account.</p>
          </div>
        ) : (
          <ErrorNotice error={error} fields={["email", "password"]} />
        )}
        <form className="form" onSubmit={submit} noValidate>
          <Field label="Email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
          <Field label="Password" type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={errors.password} />
          <div className="form-actions spread">
            <Link to="/forgot-password">Forgot your password?</Link>
            <Button type="submit" size="large" disabled={fetching}>
              {fetching ? "Signing in…" : "Sign in"}
            </Button>
          </div>
        </form>
      </div>
    </div>
  );
}
