// The unread-notifications badge in the header (W2 fills it: count kept live by
// notificationAdded; render it with data-testid="unread-badge").
/** Nothing yet. */
export function NotificationBadge() {
  return null;
}
