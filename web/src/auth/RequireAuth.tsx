import { useEffect, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useAuth } from "react-oidc-context";
import { useLocation } from "react-router";

import { ErrorMessage } from "../components/ErrorMessage";
import { useLocale } from "../components/hooks";
import type { SignInState } from "./oidc";

/**
 * Screens behind sign-in: a visitor who is not signed in goes to the issuer's sign-in page. Once
 * signed in, a failed renewal does not take the screen away (what the user typed stays): the
 * session dialog asks them to sign in again.
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const auth = useAuth();
  const location = useLocation();
  const locale = useLocale();
  const mustSignIn = !auth.isLoading && !auth.isAuthenticated && !auth.error && !auth.activeNavigator;

  useEffect(() => {
    if (mustSignIn) {
      const state: SignInState = { returnTo: location.pathname + location.search };
      void auth.signinRedirect({ state, extraQueryParams: { lang: locale } });
    }
  }, [mustSignIn, auth, location.pathname, location.search, locale]);

  if (auth.error && !auth.isAuthenticated) {
    return (
      <main id="main" className="centered">
        <h1>{t("signIn.failedTitle")}</h1>
        <ErrorMessage error={auth.error} />
        <button type="button" className="button primary" onClick={() => void auth.signinRedirect()}>
          {t("signIn.tryAgain")}
        </button>
      </main>
    );
  }
  if (!auth.isAuthenticated) {
    return (
      <main id="main" className="centered">
        <p role="status">{t("signIn.redirecting")}</p>
      </main>
    );
  }
  return <>{children}</>;
}
