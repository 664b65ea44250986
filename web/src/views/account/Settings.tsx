// Placeholder for the Settings view (W2's).
/** Settings. */
export default function Settings() {
  return (
    <div className="container narrow">
      <h1>Settings</h1>
    </div>
  );
}
