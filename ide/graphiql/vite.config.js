// Builds the page into ../dist/graphiql with hashed assets under assets/, for Conduit to
// serve under /ide/graphiql/ (the page itself on GET /graphql).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/ide/graphiql/',
  build: {
    outDir: '../dist/graphiql',
    emptyOutDir: true,
    // Monaco is large; the page is a developer tool loaded once, not the web app.
    chunkSizeWarningLimit: 6000,
    rolldownOptions: {
      onwarn(warning, warn) {
        // React's "use client" markers in GraphiQL's dependencies mean nothing in a
        // client-only bundle.
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  worker: { format: 'es' },
});
