import { useId, useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";

import { isApiError } from "../api/errors";
import { useCreateDossier } from "../api/queries";
import { atLeast, isUnitGroup, unitGroup, unitName } from "../auth/principal";
import { mayCreateDossiers } from "../auth/rights";
import { ErrorMessage } from "../components/ErrorMessage";
import { SelectField, TextAreaField, TextField } from "../components/Field";
import { NotAllowed } from "../components/NotAllowed";
import { PageHeading } from "../components/PageHeading";
import { UnitSuggestions } from "../components/UnitSuggestions";
import { usePrincipal } from "../components/hooks";
import { checkDossierFields, LIMITS, refusedFields, type DossierField, type FieldProblems } from "./dossierForm";

export function DossierCreateScreen() {
  const { t } = useTranslation();
  const principal = usePrincipal();
  const navigate = useNavigate();
  const create = useCreateDossier();
  // One key per form: sending it again (a retry, a double click) cannot create two dossiers.
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const [reference, setReference] = useState("");
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const ownUnits = principal?.units ?? [];
  // The only unit is chosen already; with several the user picks one.
  const [unit, setUnit] = useState(ownUnits.length === 1 ? (ownUnits[0] ?? "") : "");
  const [problems, setProblems] = useState<FieldProblems>({});
  const admin = atLeast(principal, "admin");
  const unitsId = useId();

  if (!mayCreateDossiers(principal)) {
    const reason = atLeast(principal, "editor") ? t("notAllowed.createNoUnit") : t("notAllowed.create");
    return (
      <section>
        <PageHeading title={t("dossierCreate.title")} />
        <NotAllowed reason={reason} backTo="/dossiers" backLabel={t("notFound.backToDossiers")} />
      </section>
    );
  }

  const apiError = isApiError(create.error) ? create.error : null;
  const shown: FieldProblems = { ...refusedFields(apiError), ...problems };
  const issues = (field: DossierField) => {
    const problem = shown[field];
    return problem ? [t(`dossierForm.problems.${field}.${problem}`)] : [];
  };

  const onSubmit = (event: SyntheticEvent) => {
    event.preventDefault();
    const chosenUnit = admin ? unitGroup(unit) : unit;
    const found = checkDossierFields({ reference, title, description });
    if (unit.trim() === "") found.unit = "required";
    else if (!isUnitGroup(chosenUnit)) found.unit = "format";
    setProblems(found);
    if (Object.keys(found).length > 0) {
      return;
    }
    const input = {
      reference: reference.trim(),
      title: title.trim(),
      unit: chosenUnit,
      ...(description.trim() ? { description: description.trim() } : {}),
    };
    create.mutate(
      { input, idempotencyKey },
      { onSuccess: ({ dossier }) => void navigate(`/dossiers/${dossier.id}`) },
    );
  };

  return (
    <section>
      <PageHeading title={t("dossierCreate.title")} />
      <form className="form" noValidate onSubmit={onSubmit}>
        <TextField
          label={t("dossier.fields.reference")}
          hint={t("dossierForm.hints.reference")}
          issues={issues("reference")}
          value={reference}
          maxLength={LIMITS.reference}
          autoComplete="off"
          required
          onChange={(event) => {
            setReference(event.target.value);
          }}
        />
        <TextField
          label={t("dossier.fields.title")}
          issues={issues("title")}
          value={title}
          maxLength={LIMITS.title}
          required
          onChange={(event) => {
            setTitle(event.target.value);
          }}
        />
        {admin ? (
          // Admins create in any unit: they type it, the units in use are suggested.
          <>
            <TextField
              label={t("dossier.fields.unit")}
              hint={t("dossierForm.hints.unitAdmin")}
              issues={issues("unit")}
              value={unit}
              maxLength={64}
              autoComplete="off"
              list={unitsId}
              required
              onChange={(event) => {
                setUnit(event.target.value);
              }}
            />
            <UnitSuggestions id={unitsId} />
          </>
        ) : (
          <SelectField
            label={t("dossier.fields.unit")}
            hint={t("dossierForm.hints.unit")}
            issues={issues("unit")}
            value={unit}
            required
            onChange={(event) => {
              setUnit(event.target.value);
            }}
          >
            {ownUnits.length > 1 && <option value="">{t("dossierForm.chooseUnit")}</option>}
            {ownUnits.map((u) => (
              <option key={u} value={u}>
                {unitName(u)}
              </option>
            ))}
          </SelectField>
        )}
        <TextAreaField
          label={t("dossier.fields.description")}
          issues={issues("description")}
          value={description}
          rows={5}
          maxLength={LIMITS.description}
          onChange={(event) => {
            setDescription(event.target.value);
          }}
        />
        {create.isError &&
          (apiError?.kind === "conflict" ? (
            <div className="message message-error" role="alert">
              <p className="message-title">{t("dossierCreate.duplicate")}</p>
              <p>{t("dossierCreate.duplicateNext")}</p>
            </div>
          ) : Object.keys(refusedFields(apiError)).length === 0 ? (
            // the fields the API named are marked on them; anything else is said here
            <ErrorMessage error={create.error} />
          ) : null)}
        <div className="actions">
          <button type="submit" className="button primary" disabled={create.isPending}>
            {create.isPending ? t("common.saving") : t("dossierCreate.submit")}
          </button>
          <Link to="/dossiers" className="button">
            {t("common.cancel")}
          </Link>
        </div>
      </form>
    </section>
  );
}
