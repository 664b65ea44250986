// The side navigation of the account pages.
import { NavLink } from "react-router";

function linkClass({ isActive }: { isActive: boolean }): string {
  return isActive ? "is-active" : "";
}

/** Links between settings, sessions and notifications. */
export function AccountNav() {
  return (
    <nav className="account-nav" aria-label="Account">
      <ul>
        <li>
          <NavLink to="/settings" end className={linkClass}>
            Settings
          </NavLink>
        </li>
        <li>
          <NavLink to="/settings/sessions" className={linkClass}>
            Sessions
          </NavLink>
        </li>
        <li>
          <NavLink to="/notifications" className={linkClass}>
            Notifications
          </NavLink>
        </li>
      </ul>
    </nav>
  );
}
