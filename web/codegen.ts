// GraphQL Code Generator: typed documents (client preset) and the Graphcache schema,
// both from the server's exported schema. Output in src/gql/ is committed.
import type { CodegenConfig } from "@graphql-codegen/cli";
import { addTypenameSelectionDocumentTransform } from "@graphql-codegen/client-preset";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: true,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { persistedDocuments: true, fragmentMasking: false },
      // Graphcache needs __typename everywhere, and in safelist mode the server runs the
      // manifest's text, so the manifest's documents must carry it.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", ID: "string" },
      },
    },
    "src/gql/introspection.ts": {
      plugins: ["urql-introspection"],
      config: { module: "es2015", useTypeImports: true, includeScalars: false },
    },
  },
};

export default config;
