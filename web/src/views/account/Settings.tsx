// Settings: profile, email and its verification, password, email notification kinds,
// sign out and sessions, account deletion.
import { useSearchParams } from "react-router";
import { useQuery } from "urql";
import { graphql } from "../../gql";
import { useSession } from "../../session/store";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Loading } from "../../ui/Loading";
import { AccountNav } from "./AccountNav";
import { DeleteAccountSection, SignOutSection } from "./AccountSection";
import { EmailSection } from "./EmailSection";
import { NotificationKindsSection } from "./NotificationKindsSection";
import { PasswordSection } from "./PasswordSection";
import { ProfileSection } from "./ProfileSection";
import { SignInRequired } from "./SignInRequired";
import "./account.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const SettingsQuery = graphql(`
  query Settings {
    viewer {
      ...ViewerSettings
    }
  }
`);

/** The settings page. */
export default function Settings() {
  const { user } = useSession();
  useDocumentTitle("Settings");
  if (!user) return <SignInRequired title="Settings" />;
  return <SettingsPage />;
}

function SettingsPage() {
  const [{ data, error }, reexecute] = useQuery({ query: SettingsQuery });
  const [params] = useSearchParams();
  // A partial read from the cache (schema-aware Graphcache fills what it lacks with
  // null) would show "not verified" and empty fields for a moment: wait for the email,
  // which the viewer always has.
  const viewer = data?.viewer?.email != null ? data.viewer : undefined;
  return (
    <div className="container account-page">
      <h1>Settings</h1>
      <p className="account-lead">Your profile, sign-in and what Conduit sends you.</p>
      {params.get("reset") === "1" && (
        <div className="notice notice-info" role="status">
          <p>Your new password is set and you are signed in. Every other session was signed out.</p>
        </div>
      )}
      <div className="account-layout">
        <AccountNav />
        <div className="account-sections">
          {viewer ? (
            <>
              <ProfileSection viewer={viewer} />
              <EmailSection viewer={viewer} />
              <PasswordSection />
              <NotificationKindsSection viewer={viewer} />
              <SignOutSection />
              <DeleteAccountSection />
            </>
          ) : error ? (
            <ErrorNotice error={error} onRetry={() => reexecute({ requestPolicy: "network-only" })} />
          ) : (
            <Loading label="Loading your settings…" />
          )}
        </div>
      </div>
    </div>
  );
}
