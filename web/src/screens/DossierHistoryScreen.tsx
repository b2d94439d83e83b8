import { useId } from "react";
import { useTranslation } from "react-i18next";

import { useHistory, type AuditEvent } from "../api/queries";
import { ErrorMessage } from "../components/ErrorMessage";
import { useLocale } from "../components/hooks";
import { formatDateTime } from "../format";
import { useDossierContext } from "./DossierScreen";

/** `dossier.updated` → `dossier_updated`: catalogue keys cannot hold the API's dots. */
function actionKey(action: string): string {
  return `history.actions.${action.replace(/\./g, "_")}`;
}

function detailsText(details: AuditEvent["details"]): string {
  if (!details) {
    return "";
  }
  return Object.entries(details)
    .map(([name, value]) => `${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

/** Every write, grant and download of the dossier, newest first. */
export function DossierHistoryScreen() {
  const { t, i18n } = useTranslation();
  const locale = useLocale();
  const headingId = useId();
  const { versioned } = useDossierContext();
  const history = useHistory(versioned.dossier.id);
  const events = history.data?.pages.flatMap((page) => page.items) ?? [];
  const describe = (action: string) => {
    const key = actionKey(action);
    // An action this build does not know yet is shown as the API names it.
    return i18n.exists(key) ? t(key as "history.actions.dossier_created") : action;
  };
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>{t("history.title")}</h2>
      {history.isError && <ErrorMessage error={history.error} />}
      {history.isPending && <p role="status">{t("common.loading")}</p>}
      {history.isSuccess && events.length === 0 && <p>{t("history.none")}</p>}
      {events.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">{t("history.caption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("history.when")}</th>
              <th scope="col">{t("history.who")}</th>
              <th scope="col">{t("history.what")}</th>
              <th scope="col">{t("history.details")}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event, index) => (
              <tr key={`${event.occurred_at}-${event.entity_id}-${String(index)}`}>
                <td>{formatDateTime(event.occurred_at, locale)}</td>
                <td>{event.actor}</td>
                <td>{describe(event.action)}</td>
                <td className="details">{detailsText(event.details)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {history.hasNextPage && (
        <button type="button" className="button" onClick={() => void history.fetchNextPage()}>
          {t("history.more")}
        </button>
      )}
    </section>
  );
}
