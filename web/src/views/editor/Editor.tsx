// The editor: a new article (/editor) or an edit of one's own (/editor/:slug), with tags
// added and removed as pills, and each field's error next to it.
import { useState, type FormEvent, type KeyboardEvent } from "react";
import { Navigate, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";
import { fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import { useSession } from "../../session/store";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Field } from "../../ui/Field";
import { Loading } from "../../ui/Loading";
import { NotFound } from "../NotFound";
import "./editor.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const EditArticleQuery = graphql(`
  query EditArticle($slug: String!) {
    article(slug: $slug) {
      id
      slug
      title
      description
      body
      tags
      viewerCanUpdate
    }
  }
`);

const CreateArticleMutation = graphql(`
  mutation CreateArticle($input: CreateArticleInput!) {
    createArticle(input: $input) {
      id
      slug
    }
  }
`);

const UpdateArticleMutation = graphql(`
  mutation UpdateArticle($slug: String!, $input: UpdateArticleInput!) {
    updateArticle(slug: $slug, input: $input) {
      id
      slug
      title
      description
      body
      bodyHtml
      tags
      updatedAt
    }
  }
`);

/** What the form holds. */
export interface Draft {
  title: string;
  description: string;
  body: string;
  tags: string[];
}

const EMPTY: Draft = { title: "", description: "", body: "", tags: [] };
const FIELDS = ["title", "description", "body", "tags"] as const;

/** The editor page (signed in only). */
export default function Editor() {
  const { slug } = useParams();
  const { user } = useSession();
  if (!user) return <Navigate to={`/login?next=${encodeURIComponent(slug ? `/editor/${slug}` : "/editor")}`} replace />;
  return slug ? <EditExisting slug={slug} /> : <CreateNew />;
}

function CreateNew() {
  const navigate = useNavigate();
  const [{ fetching, error }, create] = useMutation(CreateArticleMutation);
  useDocumentTitle("New article");
  const save = async (draft: Draft) => {
    const result = await create({ input: draft });
    const created = result.data?.createArticle;
    if (created) navigate(`/article/${created.slug}`);
  };
  return <EditorForm heading="New article" initial={EMPTY} submitLabel="Publish article" saving={fetching} error={error} onSave={save} />;
}

function EditExisting({ slug }: { slug: string }) {
  const navigate = useNavigate();
  const [{ data, error: loadError }, reexecute] = useQuery({ query: EditArticleQuery, variables: { slug }, requestPolicy: "cache-and-network" });
  const [{ fetching, error }, update] = useMutation(UpdateArticleMutation);
  useDocumentTitle("Edit article");
  if (!data) {
    return <div className="container">{loadError ? <ErrorNotice error={loadError} onRetry={() => reexecute({ requestPolicy: "network-only" })} /> : <Loading />}</div>;
  }
  const article = data.article;
  if (!article) return <NotFound what="article" />;
  if (!article.viewerCanUpdate) {
    return (
      <div className="container narrow">
        <div className="notice notice-warn" role="alert">
          <p>Only the author can edit this article.</p>
        </div>
      </div>
    );
  }
  const save = async (draft: Draft) => {
    const result = await update({ slug: article.slug, input: draft });
    const updated = result.data?.updateArticle;
    if (updated) navigate(`/article/${updated.slug}`);
  };
  return (
    <EditorForm
      key={article.id}
      heading="Edit article"
      initial={{ title: article.title, description: article.description, body: article.body, tags: [...article.tags] }}
      submitLabel="Save changes"
      saving={fetching}
      error={error}
      onSave={save}
    />
  );
}

interface FormProps {
  heading: string;
  initial: Draft;
  submitLabel: string;
  saving: boolean;
  error: CombinedError | undefined;
  onSave: (draft: Draft) => Promise<void>;
}

function EditorForm({ heading, initial, submitLabel, saving, error, onSave }: FormProps) {
  const [draft, setDraft] = useState<Draft>(initial);
  const [tagInput, setTagInput] = useState("");
  const errors = fieldErrors(error);
  const set = (name: "title" | "description" | "body") => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [name]: e.target.value }));

  const addTag = () => {
    const tag = tagInput.trim().toLowerCase();
    if (tag && !draft.tags.includes(tag)) setDraft((d) => ({ ...d, tags: [...d.tags, tag] }));
    setTagInput("");
  };
  const onTagKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter" || event.key === ",") {
      event.preventDefault();
      addTag();
    }
  };
  const removeTag = (tag: string) => setDraft((d) => ({ ...d, tags: d.tags.filter((t) => t !== tag) }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const pending = tagInput.trim().toLowerCase();
    const tags = pending && !draft.tags.includes(pending) ? [...draft.tags, pending] : draft.tags;
    setTagInput("");
    setDraft((d) => ({ ...d, tags }));
    void onSave({ ...draft, tags });
  };

  return (
    <div className="container editor-page">
      <h1>{heading}</h1>
      <div className="card">
        <ErrorNotice error={error} fields={FIELDS} />
        <form className="form" onSubmit={submit} noValidate>
          <Field label="Title" name="title" value={draft.title} onChange={set("title")} error={errors.title} required className="field-title" />
          <Field label="What is this article about?" name="description" value={draft.description} onChange={set("description")} error={errors.description} />
          <Field label="Article (Markdown)" name="body" multiline rows={14} value={draft.body} onChange={set("body")} error={errors.body} hint="Markdown: headings, lists, links, code, tables, ~~strikethrough~~." required />
          <div className="tag-editor">
            <Field
              label="Tags"
              name="tag"
              value={tagInput}
              onChange={(e) => setTagInput(e.target.value)}
              onKeyDown={onTagKey}
              error={errors.tags}
              hint="Press Enter to add a tag (up to 10)."
            />
            <Button variant="outline" onClick={addTag} disabled={!tagInput.trim()} className="tag-add">
              Add tag
            </Button>
          </div>
          {draft.tags.length > 0 && (
            <ul className="pill-list" aria-label="Tags of this article">
              {draft.tags.map((tag) => (
                <li key={tag}>
                  <span className="pill pill-removable">
                    {tag}
                    <button type="button" className="pill-remove" aria-label={`Remove tag ${tag}`} onClick={() => removeTag(tag)}>
                      ×
                    </button>
                  </span>
                </li>
              ))}
            </ul>
          )}
          <div className="form-actions">
            <Button type="submit" size="large" disabled={saving}>
              {saving ? "Saving…" : submitLabel}
            </Button>
          </div>
        </form>
      </div>
    </div>
  );
}
