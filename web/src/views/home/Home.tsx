// Placeholder for the home view.
/** The home page. */
export function Home() {
  return (
    <div className="container">
      <h1>conduit</h1>
    </div>
  );
}
