// Placeholder for the Sessions view (W2's).
/** Your sessions. */
export default function Sessions() {
  return (
    <div className="container narrow">
      <h1>Your sessions</h1>
    </div>
  );
}
