// Formatting shared by the views.
const dateFormat = new Intl.DateTimeFormat("en", { year: "numeric", month: "long", day: "numeric" });

/** "December 1, 2026" from an RFC 3339 instant. */
export function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}
