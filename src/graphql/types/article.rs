//! The `Article` type and its inputs.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    db::{
        self,
        articles::{ArticleFilter, ArticleRow, Columns},
        comments::CommentRow,
        keyset::Page,
    },
    domain::{
        articles::{Draft, Edit},
        policy,
    },
    error::AppError,
    graphql::{
        guards,
        loaders::{CommentPage, Favorited, TextBytes, loaders},
        node::{NodeKind, global_id},
        pagination::{Connection, List, PageArgs},
        scalars::DateTime,
        types::{comment::Comment, user::User},
    },
};

/// A published article.
#[derive(Debug, Clone)]
pub struct Article {
    row: Arc<ArticleRow>,
    /// False when the row was read without its body (a list that does not select it).
    has_body: bool,
    /// What this request's own write made `viewerHasFavorited` (`favoriteArticle`,
    /// `unfavoriteArticle`): known without a read.
    viewer_favorited: Option<bool>,
}

impl Article {
    /// The article in `row`.
    pub fn new(row: Arc<ArticleRow>) -> Self {
        Self {
            row,
            has_body: true,
            viewer_favorited: None,
        }
    }

    /// The article in `row`, just favorited (`true`) or unfavorited by the request's
    /// viewer: its `viewerHasFavorited` is that, with no read.
    pub fn favorited_by_viewer(row: ArticleRow, favorited: bool) -> Self {
        Self {
            viewer_favorited: Some(favorited),
            ..Self::new(Arc::new(row))
        }
    }

    /// The article in `row`, read without its body (`Columns::WithoutBody`).
    fn without_body(row: ArticleRow) -> Self {
        Self {
            row: Arc::new(row),
            has_body: false,
            viewer_favorited: None,
        }
    }

    /// The article's row.
    pub fn row(&self) -> &ArticleRow {
        &self.row
    }
}

impl From<ArticleRow> for Article {
    fn from(row: ArticleRow) -> Self {
        Self::new(Arc::new(row))
    }
}

/// A published article.
#[Object]
impl Article {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Article, self.row.id)
    }

    /// URL name, unique, derived from the title; changes when the title does.
    async fn slug(&self) -> &str {
        &self.row.slug
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.row.title
    }

    /// Short summary.
    async fn description(&self) -> &str {
        &self.row.description
    }

    /// Markdown body.
    async fn body(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        if self.has_body {
            return Ok(self.row.body.clone());
        }
        // Read without it, though selected (the list's look-ahead missed a selection):
        // the whole row, once per request.
        let row = loaders(ctx).referenced_article(self.row.id).await?;
        Ok(row.body.clone())
    }

    /// The body rendered from Markdown (CommonMark with tables and strikethrough) to
    /// sanitized HTML: no scripts, event handlers, styles or raw HTML survive. Rendered
    /// when the body is written, not per read.
    async fn body_html(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let row = if self.has_body {
            Arc::clone(&self.row)
        } else {
            loaders(ctx).referenced_article(self.row.id).await?
        };
        Ok(match &row.body_html {
            Some(html) => html.clone(),
            // Written by an older build and not backfilled yet.
            None => crate::domain::markdown::render(&row.body),
        })
    }

    /// Lower-case, in the order given at creation.
    async fn tags(&self) -> &[String] {
        &self.row.tags.0
    }

    /// When it was published.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    /// When its title, description, body or tags last changed.
    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }

    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let row = loaders(ctx).referenced_user(self.row.author_id).await?;
        Ok(User::new(row))
    }

    /// How many users have favorited it.
    async fn favorites_count(&self) -> i32 {
        self.row.favorites_count
    }

    /// True when the signed-in user has favorited it.
    async fn viewer_has_favorited(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = guards::viewer(ctx);
        let Some(viewer) = viewer.filter(|v| policy::can_favorite(Some(v))) else {
            return Ok(false);
        };
        if let Some(favorited) = self.viewer_favorited {
            return Ok(favorited);
        }
        let key = Favorited {
            viewer: viewer.user_id,
            article: self.row.id,
        };
        Ok(loaders(ctx).relations.load_one(key).await?.unwrap_or(false))
    }

    /// How many comments it has.
    async fn comments_count(&self) -> i32 {
        self.row.comments_count
    }

    /// Its comments, oldest first.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Comment>> {
        let args = PageArgs::new(first, after, last, before);
        let request = args.check(List::Comments(self.row.id))?;
        let key = CommentPage {
            article: self.row.id,
            query: request.query,
        };
        let page = loaders(ctx).comment_pages.load_one(key).await?;
        let page = page.map_or_else(Page::default, |page| (*page).clone());
        let total = i64::from(self.row.comments_count);
        Ok(Connection::new(request, page, CommentRow::position, Comment::from).with_total(total))
    }

    /// True when the signed-in user may edit it (its author).
    async fn viewer_can_update(&self, ctx: &Context<'_>) -> bool {
        policy::can_update_article(guards::viewer(ctx).as_ref(), self.row.author_id)
    }

    /// True when the signed-in user may delete it (its author or an admin).
    async fn viewer_can_delete(&self, ctx: &Context<'_>) -> bool {
        policy::can_delete_article(guards::viewer(ctx).as_ref(), self.row.author_id)
    }
}

/// One page of the articles matching `filter`, newest first; their bodies are read only
/// when the field's selection (`ctx`, the list field's) asks for them, and what the page
/// holds is charged to the request's response meter as it arrives.
pub async fn article_list(
    ctx: &Context<'_>,
    filter: ArticleFilter,
    args: PageArgs,
) -> Result<Connection<Article>, AppError> {
    let request = args.check(List::Articles(filter.clone()))?;
    let query = request.query;
    let selection = ctx.look_ahead();
    let selects = |field: &str| {
        selection.field("nodes").field(field).exists()
            || selection.field("edges").field("node").field(field).exists()
    };
    let body = selects("body") || selects("bodyHtml");
    let columns = if body {
        Columns::All
    } else {
        Columns::WithoutBody
    };
    let loaders = loaders(ctx);
    loaders.meter.check()?;
    let page = loaders
        .read(move |conn| {
            Box::pin(async move { db::articles::page(&conn, &filter, &query, columns).await })
        })
        .await?;
    loaders.meter.charge(page.text_bytes())?;
    let article = if body {
        Article::from
    } else {
        Article::without_body
    };
    Ok(Connection::new(
        request,
        page,
        ArticleRow::position,
        article,
    ))
}

/// A new article.
#[derive(Debug, InputObject)]
pub struct CreateArticleInput {
    /// 1–200 characters; the slug is made from it.
    pub title: String,
    /// Up to 1000 characters.
    pub description: String,
    /// Markdown, 1–100000 characters.
    pub body: String,
    /// Up to 10 tags as sent (duplicates count), each 1–32 characters; trimmed,
    /// lower-cased and deduplicated.
    pub tags: Option<Vec<String>>,
}

impl From<CreateArticleInput> for Draft {
    fn from(input: CreateArticleInput) -> Self {
        Self {
            title: input.title,
            description: input.description,
            body: input.body,
            tags: input.tags.unwrap_or_default(),
        }
    }
}

/// Changes to an article; omitted fields stay as they are.
#[derive(Debug, InputObject)]
pub struct UpdateArticleInput {
    /// New title (1–200 characters); gives the article a new slug.
    pub title: Option<String>,
    /// New summary (up to 1000 characters).
    pub description: Option<String>,
    /// New body (1–100000 characters).
    pub body: Option<String>,
    /// New tags, replacing the old ones (same rules as at creation).
    pub tags: Option<Vec<String>>,
}

impl From<UpdateArticleInput> for Edit {
    fn from(input: UpdateArticleInput) -> Self {
        Self {
            title: input.title,
            description: input.description,
            body: input.body,
            tags: input.tags,
        }
    }
}
