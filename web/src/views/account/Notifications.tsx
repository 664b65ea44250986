// Placeholder for the Notifications view (W2's).
/** Notifications. */
export default function Notifications() {
  return (
    <div className="container narrow">
      <h1>Notifications</h1>
    </div>
  );
}
