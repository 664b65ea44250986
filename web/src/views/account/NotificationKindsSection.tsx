// Settings: which kinds of notification also come by email (saved on each toggle; the
// box shows its new state at once, and goes back if the save fails).
import { useState } from "react";
import { useMutation } from "urql";
import type { NotificationKind, ViewerSettingsFragment } from "../../gql/graphql";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { KIND_DESCRIPTIONS } from "./notificationKinds";
import { UpdateViewerMutation } from "./settingsDocuments";

/** The email notification checkboxes. */
export function NotificationKindsSection({ viewer }: { viewer: ViewerSettingsFragment }) {
  const [{ fetching, error }, update] = useMutation(UpdateViewerMutation);
  const [pending, setPending] = useState<ReadonlySet<NotificationKind> | null>(null);
  const chosen = pending ?? new Set(viewer.emailNotifications ?? []);

  const toggle = async (kind: NotificationKind, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(kind);
    else next.delete(kind);
    setPending(next);
    const kinds = (Object.keys(KIND_DESCRIPTIONS) as NotificationKind[]).filter((k) => next.has(k));
    await update({ input: { emailNotifications: kinds } });
    setPending(null);
  };

  return (
    <section className="card account-section" aria-labelledby="kinds-title">
      <h2 id="kinds-title">Email notifications</h2>
      <p className="section-lead">
        You always see notifications here in Conduit. Choose which ones also come by email
        {viewer.emailVerified ? "." : " (once your address is verified)."}
      </p>
      <ErrorNotice error={error} />
      <fieldset className="kind-fieldset">
        <legend className="visually-hidden">Send me an email when</legend>
        <ul className="kind-list">
          {(Object.entries(KIND_DESCRIPTIONS) as Array<[NotificationKind, { title: string; detail: string }]>).map(([kind, text]) => (
            <li key={kind}>
              <label className="kind-option">
                <input type="checkbox" name={kind} checked={chosen.has(kind)} disabled={fetching} onChange={(e) => void toggle(kind, e.target.checked)} />
                <span>
                  <strong>{text.title}</strong>
                  <span className="kind-detail">{text.detail}</span>
                </span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
    </section>
  );
}
