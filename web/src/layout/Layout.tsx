// The page frame: header with the brand and nav, the main landmark, the footer.
import { Suspense } from "react";
import { Link, NavLink, Outlet } from "react-router";
import { useSession } from "../session/store";
import { Avatar } from "../ui/Avatar";
import { Loading } from "../ui/Loading";
import { NotificationBadge } from "../views/account/NotificationBadge";

function navClass({ isActive }: { isActive: boolean }): string {
  return isActive ? "nav-link is-active" : "nav-link";
}

/** The layout route: every view renders inside it. */
export function Layout() {
  const { user } = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="container header-inner">
          <Link to="/" className="brand">
            conduit
          </Link>
          <nav aria-label="Main">
            <ul className="nav-list">
              <li>
                <NavLink to="/" end className={navClass}>
                  Home
                </NavLink>
              </li>
              {user ? (
                <>
                  <li>
                    <NavLink to="/editor" end className={navClass}>
                      New article
                    </NavLink>
                  </li>
                  <li>
                    <NavLink to="/notifications" className={navClass}>
                      Notifications <NotificationBadge />
                    </NavLink>
                  </li>
                  <li>
                    <NavLink to="/settings" className={navClass}>
                      Settings
                    </NavLink>
                  </li>
                  <li>
                    <NavLink to={`/profile/${user.username}`} className={navClass}>
                      <Avatar username={user.username} image={user.image} />
                      {user.username}
                    </NavLink>
                  </li>
                </>
              ) : (
                <>
                  <li>
                    <NavLink to="/login" className={navClass}>
                      Sign in
                    </NavLink>
                  </li>
                  <li>
                    <NavLink to="/register" className={navClass}>
                      Sign up
                    </NavLink>
                  </li>
                </>
              )}
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<div className="container"><Loading /></div>}>
          <Outlet />
        </Suspense>
      </main>
      <footer className="site-footer">
        <div className="container">
          <Link to="/" className="brand brand-small">
            conduit
          </Link>{" "}
          <span>A place to share what you know. Built on the Conduit GraphQL API.</span>
        </div>
      </footer>
    </>
  );
}
