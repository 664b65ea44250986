// The viewer's sessions: device, IP, when signed in and last used, the current one
// marked; each other one can be revoked, and revoking the current one signs out.
import { useState } from "react";
import { useNavigate } from "react-router";
import { useClient, useMutation } from "urql";
import { graphql } from "../../gql";
import type { SessionItemFragment } from "../../gql/graphql";
import { signOut } from "../../session/actions";
import { useSession } from "../../session/store";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { formatDate } from "../../ui/format";
import { Loading } from "../../ui/Loading";
import { usePagedQuery } from "../content/usePagedQuery";
import { AccountNav } from "./AccountNav";
import { SignInRequired } from "./SignInRequired";
import { timeAgo } from "./timeAgo";
import { agentInitials, describeAgent } from "./userAgent";
import "./account.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const SessionsQuery = graphql(`
  query Sessions($first: Int!, $after: String) {
    viewer {
      id
      sessions(first: $first, after: $after) {
        nodes {
          ...SessionItem
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

const RevokeSessionMutation = graphql(`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id)
  }
`);

/** The sessions page. */
export default function Sessions() {
  const { user } = useSession();
  useDocumentTitle("Sessions");
  if (!user) return <SignInRequired title="Your sessions" />;
  return <SessionsPage />;
}

function SessionsPage() {
  const list = usePagedQuery(SessionsQuery, { first: 20 }, "sessions");
  const page = list.data?.viewer?.sessions;
  return (
    <div className="container account-page">
      <h1>Your sessions</h1>
      <p className="account-lead">The devices signed in to your account. Sign out any you do not recognise.</p>
      <div className="account-layout">
        <AccountNav />
        <div>
          <ErrorNotice error={list.error} onRetry={list.retry} />
          {page ? (
            <>
              <ul className="item-list" aria-label="Sessions">
                {page.nodes.map((session) => (
                  <SessionRow key={session.id} session={session} />
                ))}
              </ul>
              {page.pageInfo.hasNextPage && page.pageInfo.endCursor && (
                <div className="load-more-row">
                  <Button variant="outline" disabled={list.fetching} onClick={() => list.loadMore(page.pageInfo.endCursor as string)}>
                    {list.fetching ? "Loading…" : "Show more"}
                  </Button>
                </div>
              )}
            </>
          ) : (
            !list.error && <Loading label="Loading your sessions…" />
          )}
        </div>
      </div>
    </div>
  );
}

function SessionRow({ session }: { session: SessionItemFragment }) {
  const client = useClient();
  const navigate = useNavigate();
  const [{ fetching, error }, revoke] = useMutation(RevokeSessionMutation);
  const [leaving, setLeaving] = useState(false);
  const device = describeAgent(session.userAgent);

  const end = async () => {
    if (session.isCurrent) {
      // Revoking this session is a logout.
      setLeaving(true);
      await signOut(client);
      navigate("/login", { replace: true });
      return;
    }
    await revoke({ id: session.id });
  };

  return (
    <li className="session" data-testid="session">
      <span className="device-icon" aria-hidden="true">
        {agentInitials(device)}
      </span>
      <div className="item-main">
        <p>
          <strong title={session.userAgent ?? undefined}>{device}</strong>
          {session.isCurrent && <span className="status status-ok current-tag">This device</span>}
        </p>
        <p className="item-meta">
          {session.clientIp ?? "Unknown IP"} · signed in {formatDate(session.createdAt)} · last active{" "}
          <time dateTime={session.lastUsedAt}>{timeAgo(session.lastUsedAt)}</time>
        </p>
        <ErrorNotice error={error} />
      </div>
      <Button variant={session.isCurrent ? "outline" : "danger"} size="small" disabled={fetching || leaving} onClick={() => void end()} aria-label={session.isCurrent ? "Sign out of this device" : `Revoke ${device}, ${session.clientIp ?? "unknown IP"}`}>
        {session.isCurrent ? "Sign out" : "Revoke"}
      </Button>
    </li>
  );
}
