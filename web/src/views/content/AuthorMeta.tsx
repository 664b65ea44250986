// Who wrote an article and when: the avatar, the author's name (both to the profile) and
// the date, as on a feed's card and under an article's title.
import { Link } from "react-router";
import { Avatar } from "../../ui/Avatar";
import { formatDate } from "../../ui/format";

/** The author's avatar and name, linking to the profile, and the publication date. */
export function AuthorMeta({ author, createdAt }: { author: { username: string; image?: string | null }; createdAt: string }) {
  return (
    <>
      <Link to={`/profile/${author.username}`} className="author-chip" aria-label={author.username} tabIndex={-1}>
        <Avatar username={author.username} image={author.image} size="medium" />
      </Link>
      <div className="article-meta-text">
        <Link to={`/profile/${author.username}`} className="author-name">
          {author.username}
        </Link>
        <time dateTime={createdAt}>{formatDate(createdAt)}</time>
      </div>
    </>
  );
}
