/**
 * The rules of the dossier fields, as the API states them (schemas.py), checked before sending
 * so that the user gets a message in their language at once; the API checks again.
 */
import type { ApiError } from "../api/errors";
import type { Dossier, DossierUpdate } from "../api/queries";
import { unitGroup } from "../auth/principal";

export const REFERENCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
export const LIMITS = { reference: 64, title: 200, description: 10_000 } as const;

export type DossierField = "reference" | "title" | "description" | "status" | "unit";

export type FieldProblems = Partial<Record<DossierField, "required" | "format" | "tooLong" | "refused">>;

// eslint-disable-next-line no-control-regex -- the API refuses control characters but tab and newlines
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

export function checkDossierFields(values: { reference?: string; title?: string; description?: string }): FieldProblems {
  const problems: FieldProblems = {};
  if (values.reference !== undefined) {
    const reference = values.reference.trim();
    if (reference === "") problems.reference = "required";
    else if (reference.length > LIMITS.reference) problems.reference = "tooLong";
    else if (!REFERENCE_PATTERN.test(reference)) problems.reference = "format";
  }
  if (values.title !== undefined) {
    const title = values.title.trim();
    if (title === "") problems.title = "required";
    else if (title.length > LIMITS.title) problems.title = "tooLong";
    else if (CONTROL.test(title)) problems.title = "format";
  }
  if (values.description !== undefined) {
    if (values.description.length > LIMITS.description) problems.description = "tooLong";
    else if (CONTROL.test(values.description)) problems.description = "format";
  }
  return problems;
}

/** The fields an API refusal (400 with details) names. */
export function refusedFields(error: ApiError | null): FieldProblems {
  const problems: FieldProblems = {};
  if (error?.kind !== "invalid") {
    return problems;
  }
  for (const field of ["reference", "title", "description", "status", "unit"] as const) {
    if (error.issuesFor(field).length > 0) {
      problems[field] = "refused";
    }
  }
  return problems;
}

export type EditableField = "title" | "description" | "status" | "unit";
export const EDITABLE: readonly EditableField[] = ["title", "description", "status", "unit"];

export interface EditValues {
  title: string;
  description: string;
  status: "open" | "closed";
  /** The unit group; admins may type it as people name the unit (`archives`). */
  unit: string;
}

export function valuesOf(dossier: Dossier): EditValues {
  return {
    title: dossier.title,
    description: dossier.description ?? "",
    status: dossier.status === "closed" ? "closed" : "open",
    unit: dossier.unit,
  };
}

/** The fields the user changed from what they read, as the API wants them. */
export function changesFrom(base: Dossier, values: EditValues): DossierUpdate {
  const read = valuesOf(base);
  const changes: DossierUpdate = {};
  if (values.title.trim() !== read.title) changes.title = values.title.trim();
  if (values.description !== read.description) changes.description = values.description === "" ? null : values.description;
  if (values.status !== read.status) changes.status = values.status;
  if (values.unit.trim() !== "" && unitGroup(values.unit) !== read.unit) changes.unit = unitGroup(values.unit);
  return changes;
}

