/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment ViewerUnreadCount on User {\n    id\n    unreadNotificationsCount\n  }\n": typeof types.ViewerUnreadCountFragmentDoc,
    "\n  fragment NotificationReadAt on Notification {\n    id\n    readAt\n  }\n": typeof types.NotificationReadAtFragmentDoc,
    "\n  fragment ArticleCommentsCount on Article {\n    id\n    commentsCount\n  }\n": typeof types.ArticleCommentsCountFragmentDoc,
    "\n  fragment SessionPayload on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    user {\n      id\n      username\n      image\n    }\n  }\n": typeof types.SessionPayloadFragmentDoc,
    "\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      ...SessionPayload\n    }\n  }\n": typeof types.RefreshSessionDocument,
    "\n  mutation Logout {\n    logout\n  }\n": typeof types.LogoutDocument,
    "\n  mutation DeleteAccount($password: String!) {\n    deleteAccount(password: $password)\n  }\n": typeof types.DeleteAccountDocument,
    "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n": typeof types.RequestEmailVerificationDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": typeof types.RequestPasswordResetDocument,
    "\n  query UnreadCount {\n    viewer {\n      id\n      unreadNotificationsCount\n    }\n  }\n": typeof types.UnreadCountDocument,
    "\n  subscription NotificationAdded {\n    notificationAdded {\n      ...NotificationItem\n    }\n  }\n": typeof types.NotificationAddedDocument,
    "\n  query Notifications($first: Int!, $after: String) {\n    viewer {\n      id\n      unreadNotificationsCount\n      notifications(first: $first, after: $after) {\n        nodes {\n          ...NotificationItem\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.NotificationsDocument,
    "\n  mutation MarkNotificationsRead($ids: [ID!]) {\n    markNotificationsRead(ids: $ids)\n  }\n": typeof types.MarkNotificationsReadDocument,
    "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {\n      ...SessionPayload\n    }\n  }\n": typeof types.ChangePasswordDocument,
    "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      ...SessionPayload\n    }\n  }\n": typeof types.ResetPasswordDocument,
    "\n  query Sessions($first: Int!, $after: String) {\n    viewer {\n      id\n      sessions(first: $first, after: $after) {\n        nodes {\n          ...SessionItem\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.SessionsDocument,
    "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n": typeof types.RevokeSessionDocument,
    "\n  query Settings {\n    viewer {\n      ...ViewerSettings\n    }\n  }\n": typeof types.SettingsDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      username\n    }\n  }\n": typeof types.VerifyEmailDocument,
    "\n  fragment NotificationItem on Notification {\n    id\n    kind\n    createdAt\n    readAt\n    actor {\n      id\n      username\n      image\n    }\n    article {\n      id\n      slug\n      title\n    }\n    comment {\n      id\n      body\n    }\n  }\n": typeof types.NotificationItemFragmentDoc,
    "\n  fragment SessionItem on Session {\n    id\n    createdAt\n    lastUsedAt\n    userAgent\n    clientIp\n    isCurrent\n  }\n": typeof types.SessionItemFragmentDoc,
    "\n  fragment ViewerSettings on User {\n    id\n    username\n    email\n    emailVerified\n    bio\n    image\n    emailNotifications\n  }\n": typeof types.ViewerSettingsFragmentDoc,
    "\n  mutation UpdateViewer($input: UpdateViewerInput!) {\n    updateViewer(input: $input) {\n      ...ViewerSettings\n    }\n  }\n": typeof types.UpdateViewerDocument,
    "\n  query ArticlePage($slug: String!) {\n    article(slug: $slug) {\n      id\n      slug\n      title\n      description\n      bodyHtml\n      tags\n      createdAt\n      favoritesCount\n      viewerHasFavorited\n      viewerCanUpdate\n      viewerCanDelete\n      commentsCount\n      author {\n        id\n        username\n        image\n        isViewer\n        viewerIsFollowing\n        followersCount\n      }\n    }\n  }\n": typeof types.ArticlePageDocument,
    "\n  subscription ArticleUpdated($slug: String!) {\n    articleUpdated(slug: $slug) {\n      id\n      title\n      description\n      bodyHtml\n      tags\n      favoritesCount\n    }\n  }\n": typeof types.ArticleUpdatedDocument,
    "\n  mutation DeleteArticle($slug: String!) {\n    deleteArticle(slug: $slug)\n  }\n": typeof types.DeleteArticleDocument,
    "\n  fragment CommentView on Comment {\n    id\n    body\n    createdAt\n    viewerCanDelete\n    author {\n      id\n      username\n      image\n    }\n    article {\n      id\n      commentsCount\n    }\n  }\n": typeof types.CommentViewFragmentDoc,
    "\n  query ArticleComments($slug: String!, $first: Int!, $after: String) {\n    article(slug: $slug) {\n      id\n      comments(first: $first, after: $after) {\n        nodes {\n          ...CommentView\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.ArticleCommentsDocument,
    "\n  subscription CommentAdded($slug: String!) {\n    commentAdded(articleSlug: $slug) {\n      ...CommentView\n    }\n  }\n": typeof types.CommentAddedDocument,
    "\n  subscription CommentDeleted($slug: String!) {\n    commentDeleted(articleSlug: $slug)\n  }\n": typeof types.CommentDeletedDocument,
    "\n  mutation AddComment($slug: String!, $body: String!) {\n    addComment(articleSlug: $slug, body: $body) {\n      ...CommentView\n    }\n  }\n": typeof types.AddCommentDocument,
    "\n  mutation DeleteComment($id: ID!) {\n    deleteComment(id: $id)\n  }\n": typeof types.DeleteCommentDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...SessionPayload\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...SessionPayload\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  mutation FavoriteArticle($slug: String!) {\n    favoriteArticle(slug: $slug) {\n      id\n      favoritesCount\n      viewerHasFavorited\n    }\n  }\n": typeof types.FavoriteArticleDocument,
    "\n  mutation UnfavoriteArticle($slug: String!) {\n    unfavoriteArticle(slug: $slug) {\n      id\n      favoritesCount\n      viewerHasFavorited\n    }\n  }\n": typeof types.UnfavoriteArticleDocument,
    "\n  mutation FollowUser($username: String!) {\n    followUser(username: $username) {\n      id\n      viewerIsFollowing\n      followersCount\n    }\n  }\n": typeof types.FollowUserDocument,
    "\n  mutation UnfollowUser($username: String!) {\n    unfollowUser(username: $username) {\n      id\n      viewerIsFollowing\n      followersCount\n    }\n  }\n": typeof types.UnfollowUserDocument,
    "\n  fragment ArticlePreview on Article {\n    id\n    slug\n    title\n    description\n    tags\n    createdAt\n    favoritesCount\n    viewerHasFavorited\n    author {\n      id\n      username\n      image\n    }\n  }\n": typeof types.ArticlePreviewFragmentDoc,
    "\n  fragment ArticlePage on ArticleConnection {\n    nodes {\n      ...ArticlePreview\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n": typeof types.ArticlePageFragmentDoc,
    "\n  query EditArticle($slug: String!) {\n    article(slug: $slug) {\n      id\n      slug\n      title\n      description\n      body\n      tags\n      viewerCanUpdate\n    }\n  }\n": typeof types.EditArticleDocument,
    "\n  mutation CreateArticle($input: CreateArticleInput!) {\n    createArticle(input: $input) {\n      id\n      slug\n    }\n  }\n": typeof types.CreateArticleDocument,
    "\n  mutation UpdateArticle($slug: String!, $input: UpdateArticleInput!) {\n    updateArticle(slug: $slug, input: $input) {\n      id\n      slug\n      title\n      description\n      body\n      bodyHtml\n      tags\n      updatedAt\n    }\n  }\n": typeof types.UpdateArticleDocument,
    "\n  query GlobalFeed($first: Int!, $after: String, $tag: String) {\n    articles(first: $first, after: $after, tag: $tag) {\n      ...ArticlePage\n    }\n  }\n": typeof types.GlobalFeedDocument,
    "\n  query YourFeed($first: Int!, $after: String) {\n    feed(first: $first, after: $after) {\n      ...ArticlePage\n    }\n  }\n": typeof types.YourFeedDocument,
    "\n  query PopularTags {\n    popularTags(first: 16) {\n      name\n      articlesCount\n    }\n  }\n": typeof types.PopularTagsDocument,
    "\n  query Profile($username: String!) {\n    user(username: $username) {\n      id\n      username\n      bio\n      image\n      isViewer\n      viewerIsFollowing\n      followersCount\n      followingCount\n    }\n  }\n": typeof types.ProfileDocument,
    "\n  query ProfileArticles($username: String!, $first: Int!, $after: String) {\n    user(username: $username) {\n      id\n      articles(first: $first, after: $after) {\n        ...ArticlePage\n      }\n    }\n  }\n": typeof types.ProfileArticlesDocument,
    "\n  query ProfileFavorites($username: String!, $first: Int!, $after: String) {\n    user(username: $username) {\n      id\n      favoriteArticles(first: $first, after: $after) {\n        ...ArticlePage\n      }\n    }\n  }\n": typeof types.ProfileFavoritesDocument,
};
const documents: Documents = {
    "\n  fragment ViewerUnreadCount on User {\n    id\n    unreadNotificationsCount\n  }\n": types.ViewerUnreadCountFragmentDoc,
    "\n  fragment NotificationReadAt on Notification {\n    id\n    readAt\n  }\n": types.NotificationReadAtFragmentDoc,
    "\n  fragment ArticleCommentsCount on Article {\n    id\n    commentsCount\n  }\n": types.ArticleCommentsCountFragmentDoc,
    "\n  fragment SessionPayload on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    user {\n      id\n      username\n      image\n    }\n  }\n": types.SessionPayloadFragmentDoc,
    "\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      ...SessionPayload\n    }\n  }\n": types.RefreshSessionDocument,
    "\n  mutation Logout {\n    logout\n  }\n": types.LogoutDocument,
    "\n  mutation DeleteAccount($password: String!) {\n    deleteAccount(password: $password)\n  }\n": types.DeleteAccountDocument,
    "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n": types.RequestEmailVerificationDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": types.RequestPasswordResetDocument,
    "\n  query UnreadCount {\n    viewer {\n      id\n      unreadNotificationsCount\n    }\n  }\n": types.UnreadCountDocument,
    "\n  subscription NotificationAdded {\n    notificationAdded {\n      ...NotificationItem\n    }\n  }\n": types.NotificationAddedDocument,
    "\n  query Notifications($first: Int!, $after: String) {\n    viewer {\n      id\n      unreadNotificationsCount\n      notifications(first: $first, after: $after) {\n        nodes {\n          ...NotificationItem\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.NotificationsDocument,
    "\n  mutation MarkNotificationsRead($ids: [ID!]) {\n    markNotificationsRead(ids: $ids)\n  }\n": types.MarkNotificationsReadDocument,
    "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {\n      ...SessionPayload\n    }\n  }\n": types.ChangePasswordDocument,
    "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      ...SessionPayload\n    }\n  }\n": types.ResetPasswordDocument,
    "\n  query Sessions($first: Int!, $after: String) {\n    viewer {\n      id\n      sessions(first: $first, after: $after) {\n        nodes {\n          ...SessionItem\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.SessionsDocument,
    "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n": types.RevokeSessionDocument,
    "\n  query Settings {\n    viewer {\n      ...ViewerSettings\n    }\n  }\n": types.SettingsDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      username\n    }\n  }\n": types.VerifyEmailDocument,
    "\n  fragment NotificationItem on Notification {\n    id\n    kind\n    createdAt\n    readAt\n    actor {\n      id\n      username\n      image\n    }\n    article {\n      id\n      slug\n      title\n    }\n    comment {\n      id\n      body\n    }\n  }\n": types.NotificationItemFragmentDoc,
    "\n  fragment SessionItem on Session {\n    id\n    createdAt\n    lastUsedAt\n    userAgent\n    clientIp\n    isCurrent\n  }\n": types.SessionItemFragmentDoc,
    "\n  fragment ViewerSettings on User {\n    id\n    username\n    email\n    emailVerified\n    bio\n    image\n    emailNotifications\n  }\n": types.ViewerSettingsFragmentDoc,
    "\n  mutation UpdateViewer($input: UpdateViewerInput!) {\n    updateViewer(input: $input) {\n      ...ViewerSettings\n    }\n  }\n": types.UpdateViewerDocument,
    "\n  query ArticlePage($slug: String!) {\n    article(slug: $slug) {\n      id\n      slug\n      title\n      description\n      bodyHtml\n      tags\n      createdAt\n      favoritesCount\n      viewerHasFavorited\n      viewerCanUpdate\n      viewerCanDelete\n      commentsCount\n      author {\n        id\n        username\n        image\n        isViewer\n        viewerIsFollowing\n        followersCount\n      }\n    }\n  }\n": types.ArticlePageDocument,
    "\n  subscription ArticleUpdated($slug: String!) {\n    articleUpdated(slug: $slug) {\n      id\n      title\n      description\n      bodyHtml\n      tags\n      favoritesCount\n    }\n  }\n": types.ArticleUpdatedDocument,
    "\n  mutation DeleteArticle($slug: String!) {\n    deleteArticle(slug: $slug)\n  }\n": types.DeleteArticleDocument,
    "\n  fragment CommentView on Comment {\n    id\n    body\n    createdAt\n    viewerCanDelete\n    author {\n      id\n      username\n      image\n    }\n    article {\n      id\n      commentsCount\n    }\n  }\n": types.CommentViewFragmentDoc,
    "\n  query ArticleComments($slug: String!, $first: Int!, $after: String) {\n    article(slug: $slug) {\n      id\n      comments(first: $first, after: $after) {\n        nodes {\n          ...CommentView\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.ArticleCommentsDocument,
    "\n  subscription CommentAdded($slug: String!) {\n    commentAdded(articleSlug: $slug) {\n      ...CommentView\n    }\n  }\n": types.CommentAddedDocument,
    "\n  subscription CommentDeleted($slug: String!) {\n    commentDeleted(articleSlug: $slug)\n  }\n": types.CommentDeletedDocument,
    "\n  mutation AddComment($slug: String!, $body: String!) {\n    addComment(articleSlug: $slug, body: $body) {\n      ...CommentView\n    }\n  }\n": types.AddCommentDocument,
    "\n  mutation DeleteComment($id: ID!) {\n    deleteComment(id: $id)\n  }\n": types.DeleteCommentDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...SessionPayload\n    }\n  }\n": types.LoginDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...SessionPayload\n    }\n  }\n": types.RegisterDocument,
    "\n  mutation FavoriteArticle($slug: String!) {\n    favoriteArticle(slug: $slug) {\n      id\n      favoritesCount\n      viewerHasFavorited\n    }\n  }\n": types.FavoriteArticleDocument,
    "\n  mutation UnfavoriteArticle($slug: String!) {\n    unfavoriteArticle(slug: $slug) {\n      id\n      favoritesCount\n      viewerHasFavorited\n    }\n  }\n": types.UnfavoriteArticleDocument,
    "\n  mutation FollowUser($username: String!) {\n    followUser(username: $username) {\n      id\n      viewerIsFollowing\n      followersCount\n    }\n  }\n": types.FollowUserDocument,
    "\n  mutation UnfollowUser($username: String!) {\n    unfollowUser(username: $username) {\n      id\n      viewerIsFollowing\n      followersCount\n    }\n  }\n": types.UnfollowUserDocument,
    "\n  fragment ArticlePreview on Article {\n    id\n    slug\n    title\n    description\n    tags\n    createdAt\n    favoritesCount\n    viewerHasFavorited\n    author {\n      id\n      username\n      image\n    }\n  }\n": types.ArticlePreviewFragmentDoc,
    "\n  fragment ArticlePage on ArticleConnection {\n    nodes {\n      ...ArticlePreview\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n": types.ArticlePageFragmentDoc,
    "\n  query EditArticle($slug: String!) {\n    article(slug: $slug) {\n      id\n      slug\n      title\n      description\n      body\n      tags\n      viewerCanUpdate\n    }\n  }\n": types.EditArticleDocument,
    "\n  mutation CreateArticle($input: CreateArticleInput!) {\n    createArticle(input: $input) {\n      id\n      slug\n    }\n  }\n": types.CreateArticleDocument,
    "\n  mutation UpdateArticle($slug: String!, $input: UpdateArticleInput!) {\n    updateArticle(slug: $slug, input: $input) {\n      id\n      slug\n      title\n      description\n      body\n      bodyHtml\n      tags\n      updatedAt\n    }\n  }\n": types.UpdateArticleDocument,
    "\n  query GlobalFeed($first: Int!, $after: String, $tag: String) {\n    articles(first: $first, after: $after, tag: $tag) {\n      ...ArticlePage\n    }\n  }\n": types.GlobalFeedDocument,
    "\n  query YourFeed($first: Int!, $after: String) {\n    feed(first: $first, after: $after) {\n      ...ArticlePage\n    }\n  }\n": types.YourFeedDocument,
    "\n  query PopularTags {\n    popularTags(first: 16) {\n      name\n      articlesCount\n    }\n  }\n": types.PopularTagsDocument,
    "\n  query Profile($username: String!) {\n    user(username: $username) {\n      id\n      username\n      bio\n      image\n      isViewer\n      viewerIsFollowing\n      followersCount\n      followingCount\n    }\n  }\n": types.ProfileDocument,
    "\n  query ProfileArticles($username: String!, $first: Int!, $after: String) {\n    user(username: $username) {\n      id\n      articles(first: $first, after: $after) {\n        ...ArticlePage\n      }\n    }\n  }\n": types.ProfileArticlesDocument,
    "\n  query ProfileFavorites($username: String!, $first: Int!, $after: String) {\n    user(username: $username) {\n      id\n      favoriteArticles(first: $first, after: $after) {\n        ...ArticlePage\n      }\n    }\n  }\n": types.ProfileFavoritesDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ViewerUnreadCount on User {\n    id\n    unreadNotificationsCount\n  }\n"): (typeof documents)["\n  fragment ViewerUnreadCount on User {\n    id\n    unreadNotificationsCount\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment NotificationReadAt on Notification {\n    id\n    readAt\n  }\n"): (typeof documents)["\n  fragment NotificationReadAt on Notification {\n    id\n    readAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ArticleCommentsCount on Article {\n    id\n    commentsCount\n  }\n"): (typeof documents)["\n  fragment ArticleCommentsCount on Article {\n    id\n    commentsCount\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SessionPayload on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    user {\n      id\n      username\n      image\n    }\n  }\n"): (typeof documents)["\n  fragment SessionPayload on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    user {\n      id\n      username\n      image\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      ...SessionPayload\n    }\n  }\n"): (typeof documents)["\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      ...SessionPayload\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteAccount($password: String!) {\n    deleteAccount(password: $password)\n  }\n"): (typeof documents)["\n  mutation DeleteAccount($password: String!) {\n    deleteAccount(password: $password)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n"): (typeof documents)["\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"): (typeof documents)["\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UnreadCount {\n    viewer {\n      id\n      unreadNotificationsCount\n    }\n  }\n"): (typeof documents)["\n  query UnreadCount {\n    viewer {\n      id\n      unreadNotificationsCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription NotificationAdded {\n    notificationAdded {\n      ...NotificationItem\n    }\n  }\n"): (typeof documents)["\n  subscription NotificationAdded {\n    notificationAdded {\n      ...NotificationItem\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Notifications($first: Int!, $after: String) {\n    viewer {\n      id\n      unreadNotificationsCount\n      notifications(first: $first, after: $after) {\n        nodes {\n          ...NotificationItem\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Notifications($first: Int!, $after: String) {\n    viewer {\n      id\n      unreadNotificationsCount\n      notifications(first: $first, after: $after) {\n        nodes {\n          ...NotificationItem\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkNotificationsRead($ids: [ID!]) {\n    markNotificationsRead(ids: $ids)\n  }\n"): (typeof documents)["\n  mutation MarkNotificationsRead($ids: [ID!]) {\n    markNotificationsRead(ids: $ids)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {\n      ...SessionPayload\n    }\n  }\n"): (typeof documents)["\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {\n      ...SessionPayload\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      ...SessionPayload\n    }\n  }\n"): (typeof documents)["\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      ...SessionPayload\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Sessions($first: Int!, $after: String) {\n    viewer {\n      id\n      sessions(first: $first, after: $after) {\n        nodes {\n          ...SessionItem\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Sessions($first: Int!, $after: String) {\n    viewer {\n      id\n      sessions(first: $first, after: $after) {\n        nodes {\n          ...SessionItem\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n"): (typeof documents)["\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Settings {\n    viewer {\n      ...ViewerSettings\n    }\n  }\n"): (typeof documents)["\n  query Settings {\n    viewer {\n      ...ViewerSettings\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      username\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      username\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment NotificationItem on Notification {\n    id\n    kind\n    createdAt\n    readAt\n    actor {\n      id\n      username\n      image\n    }\n    article {\n      id\n      slug\n      title\n    }\n    comment {\n      id\n      body\n    }\n  }\n"): (typeof documents)["\n  fragment NotificationItem on Notification {\n    id\n    kind\n    createdAt\n    readAt\n    actor {\n      id\n      username\n      image\n    }\n    article {\n      id\n      slug\n      title\n    }\n    comment {\n      id\n      body\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SessionItem on Session {\n    id\n    createdAt\n    lastUsedAt\n    userAgent\n    clientIp\n    isCurrent\n  }\n"): (typeof documents)["\n  fragment SessionItem on Session {\n    id\n    createdAt\n    lastUsedAt\n    userAgent\n    clientIp\n    isCurrent\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ViewerSettings on User {\n    id\n    username\n    email\n    emailVerified\n    bio\n    image\n    emailNotifications\n  }\n"): (typeof documents)["\n  fragment ViewerSettings on User {\n    id\n    username\n    email\n    emailVerified\n    bio\n    image\n    emailNotifications\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateViewer($input: UpdateViewerInput!) {\n    updateViewer(input: $input) {\n      ...ViewerSettings\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateViewer($input: UpdateViewerInput!) {\n    updateViewer(input: $input) {\n      ...ViewerSettings\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ArticlePage($slug: String!) {\n    article(slug: $slug) {\n      id\n      slug\n      title\n      description\n      bodyHtml\n      tags\n      createdAt\n      favoritesCount\n      viewerHasFavorited\n      viewerCanUpdate\n      viewerCanDelete\n      commentsCount\n      author {\n        id\n        username\n        image\n        isViewer\n        viewerIsFollowing\n        followersCount\n      }\n    }\n  }\n"): (typeof documents)["\n  query ArticlePage($slug: String!) {\n    article(slug: $slug) {\n      id\n      slug\n      title\n      description\n      bodyHtml\n      tags\n      createdAt\n      favoritesCount\n      viewerHasFavorited\n      viewerCanUpdate\n      viewerCanDelete\n      commentsCount\n      author {\n        id\n        username\n        image\n        isViewer\n        viewerIsFollowing\n        followersCount\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ArticleUpdated($slug: String!) {\n    articleUpdated(slug: $slug) {\n      id\n      title\n      description\n      bodyHtml\n      tags\n      favoritesCount\n    }\n  }\n"): (typeof documents)["\n  subscription ArticleUpdated($slug: String!) {\n    articleUpdated(slug: $slug) {\n      id\n      title\n      description\n      bodyHtml\n      tags\n      favoritesCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteArticle($slug: String!) {\n    deleteArticle(slug: $slug)\n  }\n"): (typeof documents)["\n  mutation DeleteArticle($slug: String!) {\n    deleteArticle(slug: $slug)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CommentView on Comment {\n    id\n    body\n    createdAt\n    viewerCanDelete\n    author {\n      id\n      username\n      image\n    }\n    article {\n      id\n      commentsCount\n    }\n  }\n"): (typeof documents)["\n  fragment CommentView on Comment {\n    id\n    body\n    createdAt\n    viewerCanDelete\n    author {\n      id\n      username\n      image\n    }\n    article {\n      id\n      commentsCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ArticleComments($slug: String!, $first: Int!, $after: String) {\n    article(slug: $slug) {\n      id\n      comments(first: $first, after: $after) {\n        nodes {\n          ...CommentView\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ArticleComments($slug: String!, $first: Int!, $after: String) {\n    article(slug: $slug) {\n      id\n      comments(first: $first, after: $after) {\n        nodes {\n          ...CommentView\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CommentAdded($slug: String!) {\n    commentAdded(articleSlug: $slug) {\n      ...CommentView\n    }\n  }\n"): (typeof documents)["\n  subscription CommentAdded($slug: String!) {\n    commentAdded(articleSlug: $slug) {\n      ...CommentView\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CommentDeleted($slug: String!) {\n    commentDeleted(articleSlug: $slug)\n  }\n"): (typeof documents)["\n  subscription CommentDeleted($slug: String!) {\n    commentDeleted(articleSlug: $slug)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddComment($slug: String!, $body: String!) {\n    addComment(articleSlug: $slug, body: $body) {\n      ...CommentView\n    }\n  }\n"): (typeof documents)["\n  mutation AddComment($slug: String!, $body: String!) {\n    addComment(articleSlug: $slug, body: $body) {\n      ...CommentView\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteComment($id: ID!) {\n    deleteComment(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteComment($id: ID!) {\n    deleteComment(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...SessionPayload\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...SessionPayload\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...SessionPayload\n    }\n  }\n"): (typeof documents)["\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...SessionPayload\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation FavoriteArticle($slug: String!) {\n    favoriteArticle(slug: $slug) {\n      id\n      favoritesCount\n      viewerHasFavorited\n    }\n  }\n"): (typeof documents)["\n  mutation FavoriteArticle($slug: String!) {\n    favoriteArticle(slug: $slug) {\n      id\n      favoritesCount\n      viewerHasFavorited\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnfavoriteArticle($slug: String!) {\n    unfavoriteArticle(slug: $slug) {\n      id\n      favoritesCount\n      viewerHasFavorited\n    }\n  }\n"): (typeof documents)["\n  mutation UnfavoriteArticle($slug: String!) {\n    unfavoriteArticle(slug: $slug) {\n      id\n      favoritesCount\n      viewerHasFavorited\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation FollowUser($username: String!) {\n    followUser(username: $username) {\n      id\n      viewerIsFollowing\n      followersCount\n    }\n  }\n"): (typeof documents)["\n  mutation FollowUser($username: String!) {\n    followUser(username: $username) {\n      id\n      viewerIsFollowing\n      followersCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnfollowUser($username: String!) {\n    unfollowUser(username: $username) {\n      id\n      viewerIsFollowing\n      followersCount\n    }\n  }\n"): (typeof documents)["\n  mutation UnfollowUser($username: String!) {\n    unfollowUser(username: $username) {\n      id\n      viewerIsFollowing\n      followersCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ArticlePreview on Article {\n    id\n    slug\n    title\n    description\n    tags\n    createdAt\n    favoritesCount\n    viewerHasFavorited\n    author {\n      id\n      username\n      image\n    }\n  }\n"): (typeof documents)["\n  fragment ArticlePreview on Article {\n    id\n    slug\n    title\n    description\n    tags\n    createdAt\n    favoritesCount\n    viewerHasFavorited\n    author {\n      id\n      username\n      image\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ArticlePage on ArticleConnection {\n    nodes {\n      ...ArticlePreview\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n"): (typeof documents)["\n  fragment ArticlePage on ArticleConnection {\n    nodes {\n      ...ArticlePreview\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EditArticle($slug: String!) {\n    article(slug: $slug) {\n      id\n      slug\n      title\n      description\n      body\n      tags\n      viewerCanUpdate\n    }\n  }\n"): (typeof documents)["\n  query EditArticle($slug: String!) {\n    article(slug: $slug) {\n      id\n      slug\n      title\n      description\n      body\n      tags\n      viewerCanUpdate\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateArticle($input: CreateArticleInput!) {\n    createArticle(input: $input) {\n      id\n      slug\n    }\n  }\n"): (typeof documents)["\n  mutation CreateArticle($input: CreateArticleInput!) {\n    createArticle(input: $input) {\n      id\n      slug\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateArticle($slug: String!, $input: UpdateArticleInput!) {\n    updateArticle(slug: $slug, input: $input) {\n      id\n      slug\n      title\n      description\n      body\n      bodyHtml\n      tags\n      updatedAt\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateArticle($slug: String!, $input: UpdateArticleInput!) {\n    updateArticle(slug: $slug, input: $input) {\n      id\n      slug\n      title\n      description\n      body\n      bodyHtml\n      tags\n      updatedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GlobalFeed($first: Int!, $after: String, $tag: String) {\n    articles(first: $first, after: $after, tag: $tag) {\n      ...ArticlePage\n    }\n  }\n"): (typeof documents)["\n  query GlobalFeed($first: Int!, $after: String, $tag: String) {\n    articles(first: $first, after: $after, tag: $tag) {\n      ...ArticlePage\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query YourFeed($first: Int!, $after: String) {\n    feed(first: $first, after: $after) {\n      ...ArticlePage\n    }\n  }\n"): (typeof documents)["\n  query YourFeed($first: Int!, $after: String) {\n    feed(first: $first, after: $after) {\n      ...ArticlePage\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PopularTags {\n    popularTags(first: 16) {\n      name\n      articlesCount\n    }\n  }\n"): (typeof documents)["\n  query PopularTags {\n    popularTags(first: 16) {\n      name\n      articlesCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Profile($username: String!) {\n    user(username: $username) {\n      id\n      username\n      bio\n      image\n      isViewer\n      viewerIsFollowing\n      followersCount\n      followingCount\n    }\n  }\n"): (typeof documents)["\n  query Profile($username: String!) {\n    user(username: $username) {\n      id\n      username\n      bio\n      image\n      isViewer\n      viewerIsFollowing\n      followersCount\n      followingCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProfileArticles($username: String!, $first: Int!, $after: String) {\n    user(username: $username) {\n      id\n      articles(first: $first, after: $after) {\n        ...ArticlePage\n      }\n    }\n  }\n"): (typeof documents)["\n  query ProfileArticles($username: String!, $first: Int!, $after: String) {\n    user(username: $username) {\n      id\n      articles(first: $first, after: $after) {\n        ...ArticlePage\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProfileFavorites($username: String!, $first: Int!, $after: String) {\n    user(username: $username) {\n      id\n      favoriteArticles(first: $first, after: $after) {\n        ...ArticlePage\n      }\n    }\n  }\n"): (typeof documents)["\n  query ProfileFavorites($username: String!, $first: Int!, $after: String) {\n    user(username: $username) {\n      id\n      favoriteArticles(first: $first, after: $after) {\n        ...ArticlePage\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;