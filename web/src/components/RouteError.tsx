import { useTranslation } from "react-i18next";

import { ErrorMessage } from "./ErrorMessage";

export function RouteError({ error }: { error: unknown }) {
  const { t } = useTranslation();
  return (
    <main id="main" className="centered">
      <h1>{t("routeError.title")}</h1>
      <ErrorMessage error={error} />
      <button
        type="button"
        className="button primary"
        onClick={() => {
          window.location.reload();
        }}
      >
        {t("routeError.reload")}
      </button>
    </main>
  );
}
