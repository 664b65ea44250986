// Placeholder for the Editor view.
/** Editor. */
export default function Editor() {
  return (
    <div className="container narrow">
      <h1>Editor</h1>
    </div>
  );
}
