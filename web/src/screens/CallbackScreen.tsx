import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { useAuth } from "react-oidc-context";
import { Link, useNavigate } from "react-router";

import { returnPathOf } from "../auth/oidc";
import { ErrorMessage } from "../components/ErrorMessage";

/**
 * Where the issuer sends the browser back: the sign-in provider exchanges the code, then this
 * screen goes on to where the user was going.
 */
export function CallbackScreen() {
  const { t } = useTranslation();
  const auth = useAuth();
  const navigate = useNavigate();
  const signedIn = auth.isAuthenticated && !auth.isLoading;
  const user = auth.user;

  useEffect(() => {
    if (signedIn) {
      void navigate(returnPathOf(user ?? undefined), { replace: true });
    }
  }, [signedIn, user, navigate]);

  return (
    <main id="main" className="centered">
      {auth.error ? (
        <>
          <h1>{t("signIn.failedTitle")}</h1>
          <ErrorMessage error={auth.error} />
          <Link to="/">{t("signIn.tryAgain")}</Link>
        </>
      ) : !auth.isLoading && !auth.isAuthenticated ? (
        <Link to="/">{t("signIn.tryAgain")}</Link>
      ) : (
        <p role="status">{t("signIn.finishing")}</p>
      )}
    </main>
  );
}
