// Vite: React, the /graphql proxy (HTTP and WebSocket) to the API in dev and preview,
// and preview under the CSP Conduit serves the app with.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const apiPort = process.env.CONDUIT_API_PORT ?? "8080";
const proxy = {
  "/graphql": { target: `http://127.0.0.1:${apiPort}`, ws: true, changeOrigin: false },
};

/** The CSP Conduit serves the app's pages with (kept in step with the server). */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export default defineConfig({
  plugins: [react()],
  server: {
    port: Number(process.env.VITE_PORT ?? 5173),
    strictPort: true,
    host: "127.0.0.1",
    proxy,
  },
  preview: {
    port: Number(process.env.VITE_PORT ?? 4173),
    strictPort: true,
    host: "127.0.0.1",
    proxy,
    headers: { "Content-Security-Policy": CSP },
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    cssCodeSplit: true,
    // No inlined base64 assets as data: are allowed, but keep CSS external (CSP).
    assetsInlineLimit: 0,
  },
});
