// What an account view shows to someone who is not signed in.
import { Link, useLocation } from "react-router";

/** Asks to sign in first, coming back here afterwards. */
export function SignInRequired({ title }: { title: string }) {
  const location = useLocation();
  const next = encodeURIComponent(location.pathname + location.search);
  return (
    <div className="container narrow empty-state">
      <h1>{title}</h1>
      <p>You need to be signed in to see this page.</p>
      <p>
        <Link to={`/login?next=${next}`} className="btn btn-primary btn-normal">
          Sign in
        </Link>
      </p>
    </div>
  );
}
