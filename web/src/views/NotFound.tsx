// The app's own "not found" (an unknown path inside the app, or a missing article).
import { Link } from "react-router";

/** Says the page does not exist. */
export function NotFound({ what = "page" }: { what?: string }) {
  return (
    <div className="container narrow empty-state">
      <h1>Nothing here</h1>
      <p>This {what} does not exist, or no longer does.</p>
      <p>
        <Link to="/">Back to the home page</Link>
      </p>
    </div>
  );
}
