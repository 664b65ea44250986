// Sign up: username, email, password, with each field's error next to it; then home.
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation } from "urql";
import { fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import { signIn } from "../../session/actions";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";
import "./auth.css";

const RegisterMutation = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      ...SessionPayload
    }
  }
`);

const FIELDS = ["username", "email", "password"] as const;

/** The sign-up page. */
export default function Register() {
  const navigate = useNavigate();
  const [form, setForm] = useState({ username: "", email: "", password: "" });
  const [{ fetching, error }, register] = useMutation(RegisterMutation);
  const errors = fieldErrors(error);
  const set = (name: (typeof FIELDS)[number]) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [name]: e.target.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await register({ input: form });
    const payload = result.data?.register;
    if (payload) {
      signIn(payload);
      navigate("/", { replace: true });
    }
  };

  return (
    <div className="container narrow auth-page">
      <h1 className="page-title">Sign up</h1>
      <p className="auth-switch">
        <Link to="/login">Have an account?</Link>
      </p>
      <div className="card">
        <ErrorNotice error={error} fields={FIELDS} />
        <form className="form" onSubmit={submit} noValidate>
          <Field label="Username" name="username" autoComplete="username" required value={form.username} onChange={set("username")} error={errors.username} hint="3–32 letters, digits, _ or -" />
          <Field label="Email" type="email" name="email" autoComplete="email" required value={form.email} onChange={set("email")} error={errors.email} />
          <Field label="Password" type="password" name="password" autoComplete="new-password" required value={form.password} onChange={set("password")} error={errors.password} hint="At least 8 characters" />
          <div className="form-actions">
            <Button type="submit" size="large" disabled={fetching}>
              {fetching ? "Creating your account…" : "Sign up"}
            </Button>
          </div>
        </form>
      </div>
    </div>
  );
}
