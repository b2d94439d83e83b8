import { useId, useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";

import { isApiError } from "../api/errors";
import { useFetchDossier, useUpdateDossier, type DossierUpdate, type VersionedDossier } from "../api/queries";
import { ErrorMessage } from "../components/ErrorMessage";
import { TextAreaField, TextField } from "../components/Field";
import { NotAllowed } from "../components/NotAllowed";
import { UnitSuggestions } from "../components/UnitSuggestions";
import { isUnitGroup, unitGroup } from "../auth/principal";
import {
  changesFrom,
  checkDossierFields,
  LIMITS,
  refusedFields,
  valuesOf,
  type DossierField,
  type EditValues,
  type FieldProblems,
} from "./dossierForm";
import { useDossierContext } from "./DossierScreen";
import { StaleEdit } from "./StaleEdit";

/**
 * Edit with optimistic locking: the form keeps the version it was opened on, whatever the cache
 * learns meanwhile, and sends it as If-Match. When someone else changed the dossier since (412),
 * the user sees what changed and chooses: reload theirs, or apply their own changes on top.
 */
export function DossierEditScreen() {
  const { t } = useTranslation();
  const { versioned, rights } = useDossierContext();
  if (!rights.edit) {
    const reason = versioned.dossier.status === "archived" ? t("notAllowed.archived") : t("notAllowed.edit");
    return <NotAllowed reason={reason} backTo={`/dossiers/${versioned.dossier.id}`} backLabel={t("dossier.backToDossier")} />;
  }
  return <EditForm initial={versioned} mayMove={rights.move} />;
}

function EditForm({ initial, mayMove }: { initial: VersionedDossier; mayMove: boolean }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const id = initial.dossier.id;
  const update = useUpdateDossier(id);
  const fetchDossier = useFetchDossier();
  const [base, setBase] = useState(initial);
  const [values, setValues] = useState<EditValues>(() => valuesOf(initial.dossier));
  const [problems, setProblems] = useState<FieldProblems>({});
  const [theirs, setTheirs] = useState<VersionedDossier | null>(null);
  const [conflictError, setConflictError] = useState<unknown>(null);
  const [nothingChanged, setNothingChanged] = useState(false);
  const unitsId = useId();

  const save = (changes: DossierUpdate, etag: string) => {
    update.mutate(
      { changes, etag },
      {
        onSuccess: () => void navigate(`/dossiers/${id}`, { state: { saved: true } }),
        onError: (error) => {
          if (isApiError(error) && error.kind === "stale") {
            fetchDossier(id).then(setTheirs, setConflictError);
          }
        },
      },
    );
  };

  const onSubmit = (event: SyntheticEvent) => {
    event.preventDefault();
    const found = checkDossierFields({ title: values.title, description: values.description });
    if (mayMove && values.unit.trim() === "") found.unit = "required";
    else if (mayMove && !isUnitGroup(unitGroup(values.unit))) found.unit = "format";
    setProblems(found);
    const changes = changesFrom(base.dossier, values);
    setNothingChanged(Object.keys(changes).length === 0);
    if (Object.keys(found).length > 0 || Object.keys(changes).length === 0) {
      return;
    }
    save(changes, base.etag);
  };

  const apiError = isApiError(update.error) ? update.error : null;
  const shown: FieldProblems = { ...refusedFields(apiError), ...problems };
  const issues = (field: DossierField) => {
    const problem = shown[field];
    return problem ? [t(`dossierForm.problems.${field}.${problem}`)] : [];
  };
  const set = (field: keyof EditValues) => (event: { target: { value: string } }) => {
    setValues((current) => ({ ...current, [field]: event.target.value }));
  };

  return (
    <section aria-labelledby="edit-heading">
      <h2 id="edit-heading">{t("dossierEdit.title")}</h2>
      {theirs && (
        <StaleEdit
          base={base.dossier}
          theirs={theirs.dossier}
          mine={values}
          busy={update.isPending}
          onReload={() => {
            setBase(theirs);
            setValues(valuesOf(theirs.dossier));
            setTheirs(null);
            update.reset();
          }}
          onReapply={() => {
            const changes = changesFrom(base.dossier, values);
            setBase(theirs);
            setTheirs(null);
            save(changes, theirs.etag);
          }}
        />
      )}
      {conflictError !== null && <ErrorMessage error={conflictError} />}
      <form className="form" noValidate onSubmit={onSubmit}>
        <TextField
          label={t("dossier.fields.title")}
          issues={issues("title")}
          value={values.title}
          maxLength={LIMITS.title}
          required
          onChange={set("title")}
        />
        <TextAreaField
          label={t("dossier.fields.description")}
          issues={issues("description")}
          value={values.description}
          rows={6}
          maxLength={LIMITS.description}
          onChange={set("description")}
        />
        {mayMove && (
          <>
            <TextField
              label={t("dossier.fields.unit")}
              hint={t("dossierEdit.unitHint")}
              issues={issues("unit")}
              value={values.unit}
              maxLength={64}
              autoComplete="off"
              list={unitsId}
              required
              onChange={set("unit")}
            />
            <UnitSuggestions id={unitsId} />
          </>
        )}
        <fieldset className="field">
          <legend>{t("dossier.fields.status")}</legend>
          {(["open", "closed"] as const).map((status) => (
            <label key={status} className="choice">
              <input
                type="radio"
                name="status"
                value={status}
                checked={values.status === status}
                onChange={set("status")}
              />
              {t(`dossier.status.${status}`)}
            </label>
          ))}
        </fieldset>
        {nothingChanged && (
          <p className="message message-info" role="status">
            {t("dossierEdit.nothingChanged")}
          </p>
        )}
        {update.isError && apiError?.kind !== "stale" && !(apiError?.kind === "invalid" && Object.keys(refusedFields(apiError)).length > 0) && (
          <ErrorMessage error={update.error} />
        )}
        <div className="actions">
          <button type="submit" className="button primary" disabled={update.isPending || theirs !== null}>
            {update.isPending ? t("common.saving") : t("dossierEdit.submit")}
          </button>
          <button type="button" className="button" onClick={() => void navigate(`/dossiers/${id}`)}>
            {t("common.cancel")}
          </button>
        </div>
      </form>
    </section>
  );
}
