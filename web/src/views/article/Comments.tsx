// An article's comments, oldest first, page by page; the new-comment form; new comments
// arriving live over commentAdded (the cache appends each once, one's own included).
import { useState, type FormEvent } from "react";
import { Link, useLocation } from "react-router";
import { useMutation, useSubscription } from "urql";
import { OPTIMISTIC_PREFIX } from "../../api/cache/content";
import { fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import type { CommentViewFragment } from "../../gql/graphql";
import { useSession } from "../../session/store";
import { Avatar } from "../../ui/Avatar";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";
import { formatDate } from "../../ui/format";
import { Loading } from "../../ui/Loading";
import { usePagedQuery } from "../content/usePagedQuery";

/** Comments per page. */
const PAGE_SIZE = 10;

graphql(`
  fragment CommentView on Comment {
    id
    body
    createdAt
    viewerCanDelete
    author {
      id
      username
      image
    }
    article {
      id
      commentsCount
    }
  }
`);

const CommentsQuery = graphql(`
  query ArticleComments($slug: String!, $first: Int!, $after: String) {
    article(slug: $slug) {
      id
      comments(first: $first, after: $after) {
        nodes {
          ...CommentView
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

const CommentAddedSubscription = graphql(`
  subscription CommentAdded($slug: String!) {
    commentAdded(articleSlug: $slug) {
      ...CommentView
    }
  }
`);

const CommentDeletedSubscription = graphql(`
  subscription CommentDeleted($slug: String!) {
    commentDeleted(articleSlug: $slug)
  }
`);

const AddCommentMutation = graphql(`
  mutation AddComment($slug: String!, $body: String!) {
    addComment(articleSlug: $slug, body: $body) {
      ...CommentView
    }
  }
`);

const DeleteCommentMutation = graphql(`
  mutation DeleteComment($id: ID!) {
    deleteComment(id: $id)
  }
`);

/** The comments section of an article. */
export function Comments({ slug, count }: { slug: string; count: number }) {
  const { user } = useSession();
  const location = useLocation();
  const comments = usePagedQuery(CommentsQuery, { slug, first: PAGE_SIZE }, slug);
  useSubscription({ query: CommentAddedSubscription, variables: { slug } });
  useSubscription({ query: CommentDeletedSubscription, variables: { slug } });
  const page = comments.data?.article?.comments;

  return (
    <section className="comments" aria-labelledby="comments-title">
      <h2 id="comments-title">
        Comments <span className="muted">({count})</span>
      </h2>
      {user ? (
        <CommentForm slug={slug} />
      ) : (
        <p className="card comment-signin">
          <Link to={`/login?next=${encodeURIComponent(location.pathname)}`}>Sign in</Link> or{" "}
          <Link to="/register">sign up</Link> to add a comment.
        </p>
      )}
      {!page && !comments.error && <Loading label="Loading comments…" />}
      <ErrorNotice error={comments.error} onRetry={comments.retry} />
      {page && (
        <ol className="comment-list" aria-label="Comments">
          {page.nodes.map((comment) => (
            <CommentItem key={comment.id} comment={comment} />
          ))}
        </ol>
      )}
      {page?.pageInfo.hasNextPage && page.pageInfo.endCursor && (
        <div className="load-more">
          <Button variant="outline" disabled={comments.fetching} onClick={() => comments.loadMore(page.pageInfo.endCursor ?? "")}>
            {comments.fetching ? "Loading…" : "Load more comments"}
          </Button>
        </div>
      )}
    </section>
  );
}

function CommentForm({ slug }: { slug: string }) {
  const [body, setBody] = useState("");
  const [{ error }, addComment] = useMutation(AddCommentMutation);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!body.trim()) return;
    // The comment shows at once (optimistic): the form is free for the next one, and gets
    // the text back if it could not be posted.
    const text = body;
    setBody("");
    const result = await addComment({ slug, body: text });
    if (result.error) setBody((current) => current || text);
  };
  return (
    <form className="card comment-form" onSubmit={submit}>
      <ErrorNotice error={error} fields={["body"]} />
      <Field label="Write a comment" multiline rows={3} name="body" value={body} onChange={(e) => setBody(e.target.value)} error={fieldErrors(error).body} />
      <div className="form-actions">
        <Button type="submit" disabled={!body.trim()}>
          Post comment
        </Button>
      </div>
    </form>
  );
}

function CommentItem({ comment }: { comment: CommentViewFragment }) {
  const [{ fetching, error }, deleteComment] = useMutation(DeleteCommentMutation);
  const pending = comment.id.startsWith(OPTIMISTIC_PREFIX);
  return (
    <li className={`card comment${pending ? " is-pending" : ""}`}>
      <p className="comment-body">{comment.body}</p>
      <div className="comment-footer">
        <Link to={`/profile/${comment.author.username}`} className="author-chip" aria-label={comment.author.username} tabIndex={-1}>
          <Avatar username={comment.author.username} image={comment.author.image} />
        </Link>
        <Link to={`/profile/${comment.author.username}`} className="author-name">
          {comment.author.username}
        </Link>
        <time dateTime={comment.createdAt}>{formatDate(comment.createdAt)}</time>
        {pending && <span className="muted">Posting…</span>}
        {comment.viewerCanDelete && (
          <Button variant="ghost" size="small" className="comment-delete" disabled={fetching} onClick={() => void deleteComment({ id: comment.id })}>
            Delete comment
          </Button>
        )}
      </div>
      <ErrorNotice error={error} />
    </li>
  );
}
