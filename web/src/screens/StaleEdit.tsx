import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";

import type { Dossier } from "../api/queries";
import { unitGroup, unitName } from "../auth/principal";
import { useLocale } from "../components/hooks";
import { formatDateTime } from "../format";
import { EDITABLE, valuesOf, type EditableField, type EditValues } from "./dossierForm";

/**
 * Someone changed the dossier since the form was opened. Shows, field by field, what the user
 * read, what it is now and what they typed; they reload the current version or reapply their
 * changes on top of it. Nothing is overwritten without that choice.
 */
export function StaleEdit({
  base,
  theirs,
  mine,
  busy,
  onReload,
  onReapply,
}: {
  base: Dossier;
  theirs: Dossier;
  mine: EditValues;
  busy: boolean;
  onReload: () => void;
  onReapply: () => void;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  const heading = useRef<HTMLHeadingElement>(null);
  const read = valuesOf(base);
  const now = valuesOf(theirs);
  const shown = (field: EditableField, values: EditValues) => {
    if (field === "status") return t(`dossier.status.${values.status}`);
    if (field === "unit") return unitName(unitGroup(values.unit));
    return values[field] || t("staleEdit.empty");
  };
  const changedByThem = EDITABLE.filter((field) => read[field] !== now[field]);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  return (
    <section className="message message-warning stale" aria-labelledby="stale-heading">
      <h3 id="stale-heading" ref={heading} tabIndex={-1}>
        {t("staleEdit.title")}
      </h3>
      <p>
        {t("staleEdit.explanation", { when: formatDateTime(theirs.updated_at, locale), version: theirs.version })}
      </p>
      {changedByThem.length > 0 ? (
        <table className="table compact">
          <caption className="visually-hidden">{t("staleEdit.caption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("staleEdit.field")}</th>
              <th scope="col">{t("staleEdit.youRead")}</th>
              <th scope="col">{t("staleEdit.nowIs")}</th>
              <th scope="col">{t("staleEdit.yours")}</th>
            </tr>
          </thead>
          <tbody>
            {changedByThem.map((field) => (
              <tr key={field} data-field={field}>
                <th scope="row">{t(`dossier.fields.${field}`)}</th>
                <td className="prewrap">{shown(field, { ...read })}</td>
                <td className="prewrap">{shown(field, now)}</td>
                <td className="prewrap">{shown(field, mine)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{t("staleEdit.noVisibleChange")}</p>
      )}
      <div className="actions">
        <button type="button" className="button" onClick={onReload} disabled={busy}>
          {t("staleEdit.reload")}
        </button>
        <button type="button" className="button primary" onClick={onReapply} disabled={busy}>
          {t("staleEdit.reapply")}
        </button>
      </div>
    </section>
  );
}
