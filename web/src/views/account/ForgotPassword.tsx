// Placeholder for the ForgotPassword view (W2's).
/** Forgot your password?. */
export default function ForgotPassword() {
  return (
    <div className="container narrow">
      <h1>Forgot your password?</h1>
    </div>
  );
}
