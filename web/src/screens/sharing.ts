/**
 * The rules of the sharing form, as the API states them (GrantIn and patronus.units), checked
 * before sending so that the user gets a message in their language at once; the API checks again.
 */
import type { ApiError } from "../api/errors";
import type { GranteeType, GrantInput, Permission } from "../api/queries";
import { isUnitGroup, unitGroup } from "../auth/principal";

export const PERMISSIONS: readonly Permission[] = ["reader", "editor"];
export const GRANTEE_TYPES: readonly GranteeType[] = ["user", "unit"];

const UNIT_MAX = 64;
const USER_MAX = 128;
// eslint-disable-next-line no-control-regex -- the API refuses control characters in a grantee
const CONTROL = /[\u0000-\u001f\u007f]/;

export type GranteeProblem = "required" | "format" | "tooLong" | "ownUnit" | "refused";

export type GrantCheck = { grant: GrantInput } | { problem: GranteeProblem };

/**
 * The grant to send for what the user typed. A unit may be typed as people name it
 * (`litigation`, as "my account" shows it) or as its group (`unit-litigation`).
 */
export function grantFrom(
  form: { granteeType: GranteeType; grantee: string; permission: Permission },
  dossierUnit: string,
): GrantCheck {
  const typed = form.grantee.trim();
  if (typed === "") {
    return { problem: "required" };
  }
  if (form.granteeType === "user") {
    if (typed.length > USER_MAX) return { problem: "tooLong" };
    if (CONTROL.test(typed)) return { problem: "format" };
    return { grant: { grantee_type: "user", grantee: typed, permission: form.permission } };
  }
  const unit = unitGroup(typed);
  if (unit.length > UNIT_MAX) return { problem: "tooLong" };
  if (!isUnitGroup(unit)) return { problem: "format" };
  if (unit === dossierUnit) return { problem: "ownUnit" };
  return { grant: { grantee_type: "unit", grantee: unit, permission: form.permission } };
}

/** Whether an API refusal (400) names the grantee: shown on the field rather than below. */
export function granteeRefused(error: ApiError | null): boolean {
  return error?.kind === "invalid" && error.issuesFor("grantee").length > 0;
}
