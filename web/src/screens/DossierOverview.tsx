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
      {dossier.status === "closed" && rights.edit && (
        <p className="message message-info" role="note">
          {t("dossier.closedNote")}
        </p>
      )}
      <DocumentsSection dossierId={dossier.id} rights={rights} />
    </>
  );
}
