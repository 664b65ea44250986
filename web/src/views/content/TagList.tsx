// An article's tags as pills, each linking to its tag feed.
import { Link } from "react-router";

/** The tags (nothing when there are none). */
export function TagList({ tags }: { tags: readonly string[] }) {
  if (tags.length === 0) return null;
  return (
    <ul className="pill-list" aria-label="Tags">
      {tags.map((tag) => (
        <li key={tag}>
          <Link to={`/?tag=${encodeURIComponent(tag)}`} className="pill">
            {tag}
          </Link>
        </li>
      ))}
    </ul>
  );
}
