import { useTranslation } from "react-i18next";

import type { DocumentStatus, DossierStatus } from "../api/queries";

export function DossierStatusBadge({ status }: { status: DossierStatus }) {
  const { t } = useTranslation();
  return <span className={`badge badge-${status}`}>{t(`dossier.status.${status}`)}</span>;
}

export function DocumentStatusBadge({ status }: { status: DocumentStatus }) {
  const { t } = useTranslation();
  return <span className={`badge badge-${status}`}>{t(`document.status.${status}`)}</span>;
}
