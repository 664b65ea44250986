// The mutation every settings section saves with.
import { graphql } from "../../gql";

/** Changes some of the viewer's settings; returns them all. */
export const UpdateViewerMutation = graphql(`
  mutation UpdateViewer($input: UpdateViewerInput!) {
    updateViewer(input: $input) {
      ...ViewerSettings
    }
  }
`);
