// Where to go after signing in: only a path of this app, never another origin.
/** `next` when it is a local path, else the home page. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
