// Buttons in the app's few styles.
import type { ButtonHTMLAttributes } from "react";

interface Props extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: "primary" | "outline" | "danger" | "ghost";
  size?: "small" | "normal" | "large";
  /** Shown pressed (toggles: favorite, follow). */
  active?: boolean;
}

/** A button; `type` defaults to "button" (forms pass "submit"). */
export function Button({ variant = "primary", size = "normal", active, className, type, ...rest }: Props) {
  const classes = ["btn", `btn-${variant}`, `btn-${size}`, active ? "is-active" : "", className ?? ""];
  return <button type={type ?? "button"} className={classes.filter(Boolean).join(" ")} {...rest} />;
}
