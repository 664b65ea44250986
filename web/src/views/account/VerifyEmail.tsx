// Email verification, from the emailed link (/verify-email?token=): confirms the address
// once on arrival and says the outcome; works signed in or not.
import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { useMutation } from "urql";
import { fieldErrors } from "../../api/errors";
import { graphql } from "../../gql";
import { useSession } from "../../session/store";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Loading } from "../../ui/Loading";
import "./account.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const VerifyEmailMutation = graphql(`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token) {
      id
      username
    }
  }
`);

/** The verify-email page. */
export default function VerifyEmail() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const { user } = useSession();
  const [{ data, error, fetching }, verify] = useMutation(VerifyEmailMutation);
  const sent = useRef(false);
  useDocumentTitle("Email verification");
  useEffect(() => {
    // The token is single use: send it once, even when an effect runs twice.
    if (token && !sent.current) {
      sent.current = true;
      void verify({ token });
    }
  }, [token, verify]);

  const tokenError = fieldErrors(error).token;
  const verified = data?.verifyEmail;
  return (
    <div className="container narrow account-page">
      <h1 className="page-title">Email verification</h1>
      <p className="account-lead">Confirming your address lets Conduit mail you.</p>
      <div className="card">
        {verified ? (
          <div className="outcome" role="status">
            <span className="outcome-mark ok" aria-hidden="true">✓</span>
            <h2>Your email address is verified</h2>
            <p>Thanks, {verified.username}. Conduit can now mail you the notifications you choose.</p>
            <div className="form-actions">
              <Link to={user ? "/settings" : "/login"} className="btn btn-primary btn-normal">
                {user ? "Go to your settings" : "Sign in"}
              </Link>
            </div>
          </div>
        ) : !token || tokenError || (error && !fetching) ? (
          <div className="outcome" role="alert">
            <span className="outcome-mark fail" aria-hidden="true">!</span>
            <h2>We could not verify your address</h2>
            {tokenError || !token ? (
              <p>
                {token ? "This link is invalid or has expired." : "The link has no token."} Verification links work once, for 24 hours.{" "}
                {user ? "You can ask for a new link in your settings." : "Sign in to ask for a new link."}
              </p>
            ) : (
              <ErrorNotice error={error} onRetry={() => void verify({ token })} />
            )}
            <div className="form-actions">
              <Link to={user ? "/settings" : "/login"} className="btn btn-outline btn-normal">
                {user ? "Send a new link from your settings" : "Sign in to get a new link"}
              </Link>
            </div>
          </div>
        ) : (
          <Loading label="Verifying your email address…" />
        )}
      </div>
    </div>
  );
}

