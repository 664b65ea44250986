// An article as a card: author, date, favorite button, title, summary, tags.
import { Link } from "react-router";
import type { ArticlePreviewFragment } from "../../gql/graphql";
import { FavoriteButton } from "./FavoriteButton";
import { AuthorMeta } from "./AuthorMeta";
import { TagList } from "./TagList";

/** One card of a feed. */
export function ArticlePreview({ article }: { article: ArticlePreviewFragment }) {
  const { author } = article;
  return (
    <article className="card article-preview">
      <div className="article-meta">
        <AuthorMeta author={author} createdAt={article.createdAt} />
        <FavoriteButton slug={article.slug} title={article.title} count={article.favoritesCount} favorited={article.viewerHasFavorited} />
      </div>
      <Link to={`/article/${article.slug}`} className="preview-link">
        <h2>{article.title}</h2>
        <p>{article.description}</p>
      </Link>
      <div className="preview-footer">
        <Link to={`/article/${article.slug}`} className="read-more">
          Read more<span className="visually-hidden"> of “{article.title}”</span>…
        </Link>
        <TagList tags={article.tags} />
      </div>
    </article>
  );
}
