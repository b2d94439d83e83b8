import { useTranslation } from "react-i18next";
import { Link } from "react-router";

/** A screen the user reached by URL but may not use. */
export function NotAllowed({ reason, backTo, backLabel }: { reason: string; backTo: string; backLabel: string }) {
  const { t } = useTranslation();
  return (
    <div className="message message-warning" role="alert">
      <p className="message-title">{t("notAllowed.title")}</p>
      <p>{reason}</p>
      <Link to={backTo}>{backLabel}</Link>
    </div>
  );
}
