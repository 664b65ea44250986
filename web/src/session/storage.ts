// The refresh token is the only part of a session kept in storage (the access token
// lives in memory only).
const KEY = "conduit.refreshToken";

/** The stored refresh token, re-read every time (another tab may have rotated it). */
export function readRefreshToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** Stores (or with null, forgets) the refresh token. */
export function writeRefreshToken(token: string | null): void {
  try {
    if (token === null) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, token);
  } catch {
    // Storage unavailable (private mode): the session then lasts as long as the tab.
  }
}
