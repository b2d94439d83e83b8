import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { PageHeading } from "../components/PageHeading";

export function NotFoundScreen() {
  const { t } = useTranslation();
  return (
    <section>
      <PageHeading title={t("notFound.title")} />
      <p>{t("notFound.explanation")}</p>
      <Link to="/dossiers">{t("notFound.backToDossiers")}</Link>
    </section>
  );
}
