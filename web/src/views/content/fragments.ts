// The fragments the content views share.
import { graphql } from "../../gql";

/** What an article card shows. */
export const ArticlePreviewFragment = graphql(`
  fragment ArticlePreview on Article {
    id
    slug
    title
    description
    tags
    createdAt
    favoritesCount
    viewerHasFavorited
    author {
      id
      username
      image
    }
  }
`);

/** A page of a connection of articles. */
export const ArticlePageFragment = graphql(`
  fragment ArticlePage on ArticleConnection {
    nodes {
      ...ArticlePreview
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
`);
