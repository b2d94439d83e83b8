import { useSyncExternalStore } from "react";
import { useTranslation } from "react-i18next";
import { useAuth } from "react-oidc-context";
import { NavLink, Outlet } from "react-router";

import { useRecordSelf } from "../api/queries";
import { atLeast } from "../auth/principal";
import { signOutArgs } from "../auth/oidc";
import { mayCreateDossiers } from "../auth/rights";
import { useServices } from "../services";
import { usePrincipal } from "./hooks";
import { LanguageSwitch } from "./LanguageSwitch";
import { SessionDialog } from "./SessionDialog";

export function Layout() {
  const { t } = useTranslation();
  const principal = usePrincipal();
  const auth = useAuth();
  const { config, session } = useServices();
  const expired = useSyncExternalStore(session.subscribe, session.isExpired);
  // Others find this user by name when they share a dossier (users with a role only).
  useRecordSelf(atLeast(principal, "reader") ? (principal?.subject ?? null) : null);
  return (
    <>
      <a className="skip-link" href="#main">
        {t("layout.skipToContent")}
      </a>
      <header className="header">
        <div className="brand">
          <NavLink to="/dossiers">{t("app.name")}</NavLink>
        </div>
        <nav aria-label={t("layout.mainNavigation")}>
          <ul>
            <li>
              <NavLink to="/dossiers" end>
                {t("layout.nav.dossiers")}
              </NavLink>
            </li>
            {mayCreateDossiers(principal) && (
              <li>
                <NavLink to="/dossiers/new">{t("layout.nav.newDossier")}</NavLink>
              </li>
            )}
            <li>
              <NavLink to="/me">{t("layout.nav.me")}</NavLink>
            </li>
          </ul>
        </nav>
        <div className="user">
          <LanguageSwitch />
          {principal && (
            <span className="user-name" title={principal.email ?? undefined}>
              {principal.displayName}
            </span>
          )}
          <button
            type="button"
            className="button"
            // Through the auth context: while it navigates away, no screen asks to sign in again.
            onClick={() => void auth.signoutRedirect(signOutArgs(config, window.location.origin))}
          >
            {t("layout.signOut")}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      {expired && <SessionDialog />}
    </>
  );
}
