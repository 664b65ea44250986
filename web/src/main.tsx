// The app's entry: restore the session, then render the routes inside the urql client.
// The CSS base comes first, so that the views' own styles, imported later, win over it.
import "./styles/base.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { ApiProvider } from "./api/ApiProvider";
import { AppRoutes } from "./routes";
import { bootstrapSession } from "./session/actions";
import { Loading } from "./ui/Loading";

void bootstrapSession();

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");
createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <ApiProvider fallback={<main className="container"><Loading label="Signing you in…" /></main>}>
        <AppRoutes />
      </ApiProvider>
    </BrowserRouter>
  </StrictMode>,
);
