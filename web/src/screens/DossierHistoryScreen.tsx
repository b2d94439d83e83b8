import { useId } from "react";
import { useTranslation } from "react-i18next";

import { useHistory, usePeopleNames, type AuditEvent, type GranteeType, type Permission } from "../api/queries";
import { unitName } from "../auth/principal";
import { ErrorMessage } from "../components/ErrorMessage";
import { useLocale } from "../components/hooks";
import { formatBytes, formatDateTime } from "../format";
import { useDossierContext } from "./DossierScreen";

/** `dossier.updated` → `dossier_updated`: catalogue keys cannot hold the API's dots. */
function actionKey(action: string): string {
  return `history.actions.${action.replace(/\./g, "_")}`;
}

const DETAIL_NAMES = [
  "reference",
  "title",
  "description",
  "status",
  "previous_status",
  "filename",
  "size_bytes",
  "multipart",
  "etag",
  "sha256",
  "version_id",
  "unit",
  "from",
  "to",
  "read",
  "grantee_type",
  "grantee",
  "permission",
  "previous_permission",
  "result",
  "threats",
  "reason",
  "removed",
] as const;
type DetailName = (typeof DETAIL_NAMES)[number];

function isDetailName(name: string): name is DetailName {
  return (DETAIL_NAMES as readonly string[]).includes(name);
}

const DOSSIER_STATUSES = ["open", "closed", "archived"] as const;
type KnownStatus = (typeof DOSSIER_STATUSES)[number];

function isStatus(value: unknown): value is KnownStatus {
  return typeof value === "string" && (DOSSIER_STATUSES as readonly string[]).includes(value);
}

function isPermission(value: unknown): value is Permission {
  return value === "reader" || value === "editor";
}

function isGranteeType(value: unknown): value is GranteeType {
  return value === "user" || value === "unit";
}

const UNIT_DETAILS = new Set(["unit", "from", "to"]);

/** GuardDuty's scan results (patronus.services.documents.ScanResult). */
const SCAN_RESULTS = ["NO_THREATS_FOUND", "THREATS_FOUND", "UNSUPPORTED", "ACCESS_DENIED", "FAILED"] as const;

function isScanResult(value: unknown): value is (typeof SCAN_RESULTS)[number] {
  return typeof value === "string" && (SCAN_RESULTS as readonly string[]).includes(value);
}

/** The details of an event in the user's language: known names and values translated, a person
 * shared with by name. */
function useDetailsText(nameOf: (subject: string) => string) {
  const { t } = useTranslation();
  const locale = useLocale();
  return (details: AuditEvent["details"]): string => {
    if (!details) {
      return "";
    }
    return Object.entries(details)
      .map(([name, value]) => {
        const label = isDetailName(name) ? t(`history.detailNames.${name}`) : name;
        let text: string;
        if (name === "size_bytes" && typeof value === "number") text = formatBytes(value, locale);
        else if ((name === "status" || name === "previous_status") && isStatus(value)) text = t(`dossier.status.${value}`);
        else if ((name === "permission" || name === "previous_permission") && isPermission(value))
          text = t(`sharing.permissions.${value}`);
        else if (name === "grantee_type" && isGranteeType(value)) text = t(`sharing.granteeTypes.${value}`);
        else if (name === "grantee" && details.grantee_type === "user" && typeof value === "string") text = nameOf(value);
        else if (UNIT_DETAILS.has(name) && typeof value === "string") text = unitName(value);
        else if (name === "result" && isScanResult(value)) text = t(`history.scanResults.${value}`);
        else if (typeof value === "boolean") text = value ? t("common.yes") : t("common.no");
        else if (value === null) text = t("staleEdit.empty");
        else text = typeof value === "string" ? value : JSON.stringify(value);
        return t("history.detail", { name: label, value: text });
      })
      .join(" · ");
  };
}

/** Every write, grant and download of the dossier, newest first. */
export function DossierHistoryScreen() {
  const { t, i18n } = useTranslation();
  const locale = useLocale();
  const headingId = useId();
  const { versioned } = useDossierContext();
  const history = useHistory(versioned.dossier.id);
  const events = history.data?.pages.flatMap((page) => page.items) ?? [];
  const nameOf = usePeopleNames(
    events.flatMap((event) => [
      event.actor,
      ...(event.details?.grantee_type === "user" && typeof event.details.grantee === "string"
        ? [event.details.grantee]
        : []),
    ]),
  );
  const detailsText = useDetailsText(nameOf);
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
                <td>{nameOf(event.actor)}</td>
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
