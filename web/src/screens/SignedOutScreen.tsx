import { useTranslation } from "react-i18next";
import { useAuth } from "react-oidc-context";

import { LanguageSwitch } from "../components/LanguageSwitch";
import { PageHeading } from "../components/PageHeading";
import { useLocale } from "../components/hooks";

export function SignedOutScreen() {
  const { t } = useTranslation();
  const auth = useAuth();
  const locale = useLocale();
  return (
    <>
      <header className="header">
        <div className="brand">{t("app.name")}</div>
        <div className="user">
          <LanguageSwitch />
        </div>
      </header>
      <main id="main" className="centered" tabIndex={-1}>
        <PageHeading title={t("signedOut.title")} />
        <p>{t("signedOut.explanation")}</p>
        <button
          type="button"
          className="button primary"
          onClick={() => void auth.signinRedirect({ state: { returnTo: "/" }, extraQueryParams: { lang: locale } })}
        >
          {t("signedOut.signInAgain")}
        </button>
      </main>
    </>
  );
}
