import { useTranslation } from "react-i18next";

import { DocumentsSection } from "./DocumentsSection";
import { useDossierContext } from "./DossierScreen";

export function DossierOverview() {
  const { t } = useTranslation();
  const { versioned, rights } = useDossierContext();
  const { dossier } = versioned;
  return (
    <>
      <section className="description" aria-label={t("dossier.fields.description")}>
        {dossier.description ? <p className="prewrap">{dossier.description}</p> : <p className="muted">{t("dossier.noDescription")}</p>}
      </section>
      <DocumentsSection dossierId={dossier.id} rights={rights} />
    </>
  );
}
