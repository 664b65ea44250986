// One place that turns an error's `extensions.code` into what the user sees.
import { useEffect, useState } from "react";
import { Link, useLocation } from "react-router";
import type { CombinedError } from "urql";
import { errorCode, errorMessage, fieldErrors, retryAfter } from "../api/errors";
import { Button } from "./Button";

interface Props {
  error: CombinedError | undefined;
  /** Offered as a "Try again" button where retrying can help. */
  onRetry?: () => void;
  /** Field names shown next to their inputs (so not repeated here). */
  fields?: readonly string[];
}

/** Shows an error by its code: RATE_LIMITED with its wait, UNAUTHENTICATED leading to sign
 * in, SERVICE_UNAVAILABLE (and network failures) with a retry, BAD_USER_INPUT's field
 * errors left to their fields, anything else as a plain message. */
export function ErrorNotice({ error, onRetry, fields = [] }: Props) {
  const location = useLocation();
  if (!error) return null;
  const code = errorCode(error);
  switch (code) {
    case "RATE_LIMITED":
      return <RateLimited seconds={retryAfter(error) ?? 1} onRetry={onRetry} />;
    case "UNAUTHENTICATED": {
      const next = encodeURIComponent(location.pathname + location.search);
      return (
        <div className="notice notice-warn" role="alert">
          <p>{errorMessage(error)}</p>
          <p>
            <Link to={`/login?next=${next}`}>Sign in</Link> to continue.
          </p>
        </div>
      );
    }
    case "SERVICE_UNAVAILABLE":
    case "NETWORK":
      return (
        <div className="notice notice-error" role="alert">
          <p>
            {code === "NETWORK"
              ? "Could not reach Conduit. Check your connection."
              : "Conduit is busy or restarting right now."}
          </p>
          {onRetry && (
            <Button variant="outline" size="small" onClick={onRetry}>
              Try again
            </Button>
          )}
        </div>
      );
    case "BAD_USER_INPUT": {
      const errors = fieldErrors(error);
      const rest = Object.entries(errors).filter(([field]) => !fields.includes(field));
      if (Object.keys(errors).length > 0 && rest.length === 0) {
        return (
          <div className="notice notice-error" role="alert">
            <p>Please correct the fields marked below.</p>
          </div>
        );
      }
      return (
        <div className="notice notice-error" role="alert">
          {rest.length > 0 ? (
            <ul>
              {rest.map(([field, message]) => (
                <li key={field}>
                  {field}: {message}
                </li>
              ))}
            </ul>
          ) : (
            <p>{errorMessage(error)}</p>
          )}
        </div>
      );
    }
    default:
      return (
        <div className="notice notice-error" role="alert">
          <p>{errorMessage(error)}</p>
        </div>
      );
  }
}

function RateLimited({ seconds, onRetry }: { seconds: number; onRetry: (() => void) | undefined }) {
  const [left, setLeft] = useState(Math.ceil(seconds));
  useEffect(() => {
    if (left <= 0) return;
    const timer = setTimeout(() => setLeft(left - 1), 1000);
    return () => clearTimeout(timer);
  }, [left]);
  return (
    <div className="notice notice-warn" role="alert">
      {left > 0 ? (
        <p>
          Too many attempts. Please wait {left} second{left === 1 ? "" : "s"} and try again.
        </p>
      ) : (
        <p>Too many attempts. You can try again now.</p>
      )}
      {onRetry && left <= 0 && (
        <Button variant="outline" size="small" onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}
