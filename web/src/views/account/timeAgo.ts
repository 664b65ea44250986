// "5 minutes ago" for recent instants, the date for older ones.
import { formatDate } from "../../ui/format";

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** How long ago an RFC 3339 instant was, in words. */
export function timeAgo(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), "hour");
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), "day");
  return formatDate(iso);
}
