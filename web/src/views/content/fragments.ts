// The fragments the content views share (spread by name in their documents; the views
// use the generated ArticlePreviewFragment and ArticlePageFragment types).
import { graphql } from "../../gql";

// What an article card shows.
graphql(`
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

// A page of a connection of articles.
graphql(`
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
