// Placeholder for the profile view.
/** A profile, on its articles or favorites tab. */
export default function Profile({ tab }: { tab: "articles" | "favorites" }) {
  return (
    <div className="container">
      <h1>Profile: {tab}</h1>
    </div>
  );
}
