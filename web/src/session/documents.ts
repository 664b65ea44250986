// The session's own operations: the token pair a sign-in returns, the refresh and the logout.
import { graphql } from "../gql";

// What every AuthPayload-returning mutation selects, so the session store can take it
// (as the generated SessionPayloadFragment type).
graphql(`
  fragment SessionPayload on AuthPayload {
    accessToken
    accessTokenExpiresAt
    refreshToken
    user {
      id
      username
      image
    }
  }
`);

export const RefreshSessionMutation = graphql(`
  mutation RefreshSession($refreshToken: String!) {
    refreshSession(refreshToken: $refreshToken) {
      ...SessionPayload
    }
  }
`);

export const LogoutMutation = graphql(`
  mutation Logout {
    logout
  }
`);
