// Placeholder for the Article view.
/** Article. */
export default function Article() {
  return (
    <div className="container narrow">
      <h1>Article</h1>
    </div>
  );
}
