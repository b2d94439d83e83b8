import { useId, useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";

import { isApiError } from "../api/errors";
import {
  useDeleteGrant,
  useGrants,
  usePeople,
  usePeopleNames,
  usePutGrant,
  type Grant,
  type GranteeType,
  type Permission,
} from "../api/queries";
import { unitName } from "../auth/principal";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorMessage } from "../components/ErrorMessage";
import { SelectField, TextField } from "../components/Field";
import { UnitSuggestions } from "../components/UnitSuggestions";
import { useDebounced, useLocale } from "../components/hooks";
import { formatDateTime } from "../format";
import { useDossierContext } from "./DossierScreen";
import { GRANTEE_TYPES, grantFrom, granteeRefused, PERMISSIONS, type GranteeProblem } from "./sharing";

/**
 * Who the dossier is shared with beyond its unit. Anyone who may see the dossier sees the list;
 * the unit's editors and admins also share it further and stop sharing.
 */
export function DossierSharingScreen() {
  const { t } = useTranslation();
  const locale = useLocale();
  const headingId = useId();
  const { versioned, rights } = useDossierContext();
  const { dossier } = versioned;
  const grants = useGrants(dossier.id);
  const revoke = useDeleteGrant(dossier.id);
  const [toRevoke, setToRevoke] = useState<Grant | null>(null);
  const items = grants.data ?? [];
  const nameOf = usePeopleNames(items.map((grant) => grant.granted_by));
  // A person by their name when they have signed in (their identifier beside it in the list).
  const granteeText = (grant: Grant) =>
    grant.grantee_type === "unit" ? unitName(grant.grantee) : (grant.grantee_name ?? grant.grantee);

  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>{t("sharing.title")}</h2>
      <p className="hint">{t("sharing.explanation", { unit: unitName(dossier.unit) })}</p>
      {grants.isError && <ErrorMessage error={grants.error} />}
      {grants.isPending && <p role="status">{t("common.loading")}</p>}
      {grants.isSuccess && items.length === 0 && <p>{t("sharing.none")}</p>}
      {items.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">{t("sharing.caption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("sharing.fields.grantee")}</th>
              <th scope="col">{t("sharing.fields.granteeType")}</th>
              <th scope="col">{t("sharing.fields.permission")}</th>
              <th scope="col">{t("sharing.fields.grantedBy")}</th>
              <th scope="col">{t("sharing.fields.grantedAt")}</th>
              {rights.share && (
                <th scope="col">
                  <span className="visually-hidden">{t("common.actions")}</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {items.map((grant) => (
              <tr key={`${grant.grantee_type}:${grant.grantee}`}>
                <td>
                  {granteeText(grant)}
                  {grant.grantee_type === "user" && grant.grantee_name && grant.grantee_name !== grant.grantee && (
                    <span className="muted"> · {grant.grantee}</span>
                  )}
                </td>
                <td>{t(`sharing.granteeTypes.${grant.grantee_type}`)}</td>
                <td>{t(`sharing.permissions.${grant.permission}`)}</td>
                <td>{nameOf(grant.granted_by)}</td>
                <td>{formatDateTime(grant.granted_at, locale)}</td>
                {rights.share && (
                  <td>
                    <div className="row-actions">
                      <button
                        type="button"
                        className="button small danger"
                        aria-label={t("sharing.revokeNamed", { name: granteeText(grant) })}
                        onClick={() => {
                          revoke.reset();
                          setToRevoke(grant);
                        }}
                      >
                        {t("sharing.revoke")}
                      </button>
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rights.grant && <GrantForm dossierId={dossier.id} dossierUnit={dossier.unit} />}
      {!rights.share && <p className="hint">{t("sharing.readOnly")}</p>}
      {rights.share && !rights.grant && <p className="hint">{t("sharing.archived")}</p>}
      <ConfirmDialog
        open={toRevoke !== null}
        title={t("sharing.revokeConfirmTitle", { name: toRevoke ? granteeText(toRevoke) : "" })}
        confirmLabel={t("sharing.revoke")}
        cancelLabel={t("common.cancel")}
        danger
        busy={revoke.isPending}
        onCancel={() => {
          setToRevoke(null);
        }}
        onConfirm={() => {
          if (toRevoke) {
            revoke.mutate(
              { grantee_type: toRevoke.grantee_type, grantee: toRevoke.grantee },
              {
                onSuccess: () => {
                  setToRevoke(null);
                },
              },
            );
          }
        }}
      >
        <p>{t("sharing.revokeExplanation")}</p>
        {revoke.isError && <ErrorMessage error={revoke.error} />}
      </ConfirmDialog>
    </section>
  );
}

/** People who have signed in, found by the start of their name or address as it is typed: each
 * suggestion fills in their identifier, labelled with their name and address. */
function PeopleSuggestions({ id, text }: { id: string; text: string }) {
  const searched = useDebounced(text, 250);
  const people = usePeople(searched, true);
  return (
    <datalist id={id}>
      {(people.data ?? []).map((person) => (
        <option
          key={person.subject}
          value={person.subject}
          label={person.email ? `${person.name} <${person.email}>` : person.name}
        />
      ))}
    </datalist>
  );
}

function GrantForm({ dossierId, dossierUnit }: { dossierId: string; dossierUnit: string }) {
  const { t } = useTranslation();
  const headingId = useId();
  const unitsId = useId();
  const peopleId = useId();
  const put = usePutGrant(dossierId);
  const [granteeType, setGranteeType] = useState<GranteeType>("user");
  const [grantee, setGrantee] = useState("");
  const [permission, setPermission] = useState<Permission>("reader");
  const [problem, setProblem] = useState<GranteeProblem | null>(null);
  const [done, setDone] = useState(false);

  const apiError = isApiError(put.error) ? put.error : null;
  const shown: GranteeProblem | null = problem ?? (granteeRefused(apiError) ? "refused" : null);

  const onSubmit = (event: SyntheticEvent) => {
    event.preventDefault();
    setDone(false);
    const checked = grantFrom({ granteeType, grantee, permission }, dossierUnit);
    if ("problem" in checked) {
      setProblem(checked.problem);
      return;
    }
    setProblem(null);
    put.mutate(checked.grant, {
      onSuccess: () => {
        setGrantee("");
        setDone(true);
      },
    });
  };

  return (
    <section aria-labelledby={headingId} className="grant-form">
      <h3 id={headingId}>{t("sharing.add.title")}</h3>
      <form className="form" noValidate onSubmit={onSubmit}>
        <fieldset className="field">
          <legend>{t("sharing.fields.granteeType")}</legend>
          {GRANTEE_TYPES.map((type) => (
            <label key={type} className="choice">
              <input
                type="radio"
                name="grantee_type"
                value={type}
                checked={granteeType === type}
                onChange={() => {
                  setGranteeType(type);
                  setProblem(null);
                }}
              />
              {t(`sharing.granteeTypes.${type}`)}
            </label>
          ))}
        </fieldset>
        <TextField
          label={granteeType === "user" ? t("sharing.add.user") : t("sharing.add.unit")}
          hint={granteeType === "user" ? t("sharing.add.userHint") : t("sharing.add.unitHint")}
          issues={shown ? [t(`sharing.problems.${shown}`)] : []}
          value={grantee}
          maxLength={128}
          autoComplete="off"
          list={granteeType === "unit" ? unitsId : peopleId}
          required
          onChange={(event) => {
            setGrantee(event.target.value);
          }}
        />
        {granteeType === "unit" ? (
          <UnitSuggestions id={unitsId} />
        ) : (
          <PeopleSuggestions id={peopleId} text={grantee} />
        )}
        <SelectField
          label={t("sharing.fields.permission")}
          hint={t("sharing.add.permissionHint")}
          value={permission}
          onChange={(event) => {
            setPermission(event.target.value === "editor" ? "editor" : "reader");
          }}
        >
          {PERMISSIONS.map((p) => (
            <option key={p} value={p}>
              {t(`sharing.permissions.${p}`)}
            </option>
          ))}
        </SelectField>
        {put.isError && !granteeRefused(apiError) && <ErrorMessage error={put.error} />}
        {done && (
          <p className="message message-info" role="status">
            {t("sharing.add.done")}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="button primary" disabled={put.isPending}>
            {put.isPending ? t("common.saving") : t("sharing.add.submit")}
          </button>
        </div>
      </form>
    </section>
  );
}
