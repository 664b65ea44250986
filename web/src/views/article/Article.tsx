// An article: its header (author, date, follow, favorite, edit/delete), its body as the
// server's sanitized HTML, its tags and its comments, kept live over subscriptions.
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useSubscription } from "urql";
import { graphql } from "../../gql";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Loading } from "../../ui/Loading";
import { AuthorMeta } from "../content/AuthorMeta";
import { FavoriteButton } from "../content/FavoriteButton";
import { FollowButton } from "../content/FollowButton";
import { TagList } from "../content/TagList";
import { NotFound } from "../NotFound";
import { Comments } from "./Comments";
import "../content/content.css";
import "./article.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const ArticleQuery = graphql(`
  query ArticlePage($slug: String!) {
    article(slug: $slug) {
      id
      slug
      title
      description
      bodyHtml
      tags
      createdAt
      favoritesCount
      viewerHasFavorited
      viewerCanUpdate
      viewerCanDelete
      commentsCount
      author {
        id
        username
        image
        isViewer
        viewerIsFollowing
        followersCount
      }
    }
  }
`);

const ArticleUpdatedSubscription = graphql(`
  subscription ArticleUpdated($slug: String!) {
    articleUpdated(slug: $slug) {
      id
      title
      description
      bodyHtml
      tags
      favoritesCount
    }
  }
`);

const DeleteArticleMutation = graphql(`
  mutation DeleteArticle($slug: String!) {
    deleteArticle(slug: $slug)
  }
`);

/** The article page. */
export default function Article() {
  const { slug = "" } = useParams();
  const navigate = useNavigate();
  const [{ data, error }, reexecute] = useQuery({ query: ArticleQuery, variables: { slug } });
  useSubscription({ query: ArticleUpdatedSubscription, variables: { slug }, pause: !data?.article });
  const [deleteState, deleteArticle] = useMutation(DeleteArticleMutation);
  const article = data?.article;
  useDocumentTitle(article?.title);

  if (!data) {
    return <div className="container">{error ? <ErrorNotice error={error} onRetry={() => reexecute({ requestPolicy: "network-only" })} /> : <Loading label="Loading the article…" />}</div>;
  }
  if (!article) return <NotFound what="article" />;

  const remove = async () => {
    if (!window.confirm(`Delete “${article.title}”? This cannot be undone.`)) return;
    const result = await deleteArticle({ slug: article.slug });
    if (!result.error) navigate("/", { replace: true });
  };

  const { author } = article;
  const actions = (
    <div className="article-actions">
      {!author.isViewer && <FollowButton username={author.username} following={author.viewerIsFollowing} />}
      <FavoriteButton slug={article.slug} title={article.title} count={article.favoritesCount} favorited={article.viewerHasFavorited} look="full" />
      {article.viewerCanUpdate && (
        <Link to={`/editor/${article.slug}`} className="btn btn-outline btn-small">
          Edit article
        </Link>
      )}
      {article.viewerCanDelete && (
        <Button variant="danger" size="small" onClick={remove} disabled={deleteState.fetching}>
          Delete article
        </Button>
      )}
    </div>
  );

  return (
    <>
      <section className="article-banner">
        <div className="container">
          <h1>{article.title}</h1>
          <div className="article-byline">
            <AuthorMeta author={author} createdAt={article.createdAt} />
            {actions}
          </div>
        </div>
      </section>
      <div className="container article-container">
        <ErrorNotice error={deleteState.error} />
        <article className="article-body" dangerouslySetInnerHTML={{ __html: article.bodyHtml }} />
        <TagList tags={article.tags} />
        <hr className="article-rule" />
        <Comments slug={article.slug} count={article.commentsCount} />
      </div>
    </>
  );
}
