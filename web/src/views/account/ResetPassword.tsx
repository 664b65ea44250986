// Placeholder for the ResetPassword view (W2's).
/** Choose a new password. */
export default function ResetPassword() {
  return (
    <div className="container narrow">
      <h1>Choose a new password</h1>
    </div>
  );
}
