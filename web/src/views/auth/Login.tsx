// Placeholder for the Login view.
/** Sign in. */
export default function Login() {
  return (
    <div className="container narrow">
      <h1>Sign in</h1>
    </div>
  );
}
