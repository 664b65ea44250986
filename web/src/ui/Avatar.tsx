// A user's avatar: their image, or their initial on a colour of their name (also when
// the image cannot load, e.g. offline or blocked).
import { useState } from "react";

interface Props {
  username: string;
  image?: string | null | undefined;
  size?: "small" | "medium" | "large";
}

const HUES = [168, 200, 262, 12, 32, 328, 140, 220];

function hueClass(username: string): string {
  let sum = 0;
  for (const char of username) sum = (sum * 31 + char.charCodeAt(0)) >>> 0;
  return `avatar-hue-${HUES[sum % HUES.length]}`;
}

/** The avatar (decorative: the name is always shown beside it). */
export function Avatar({ username, image, size = "small" }: Props) {
  const [failed, setFailed] = useState<string | null>(null);
  if (image && failed !== image) {
    return <img className={`avatar avatar-${size}`} src={image} alt="" referrerPolicy="no-referrer" onError={() => setFailed(image)} />;
  }
  return (
    <span className={`avatar avatar-${size} avatar-initial ${hueClass(username)}`} aria-hidden="true">
      {username.slice(0, 1).toUpperCase()}
    </span>
  );
}
