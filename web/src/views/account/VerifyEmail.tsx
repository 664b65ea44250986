// Placeholder for the VerifyEmail view (W2's).
/** Email verification. */
export default function VerifyEmail() {
  return (
    <div className="container narrow">
      <h1>Email verification</h1>
    </div>
  );
}
