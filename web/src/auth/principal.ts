/**
 * Who the signed-in user is, from the claims of their ID token: Cognito puts the user's groups
 * in `cognito:groups`. The global groups say what the user may do (readers read, editors also
 * write, admins also archive and delete), the unit groups (`unit-...`) where.
 *
 * The unit groups' prefix is the deployment's (`unit_prefix` of config.json, the API's
 * `api.unit_prefix`): it is set once at start, before any screen, with `setUnitPrefix`.
 */
import { DEFAULT_UNIT_PREFIX } from "../config";

export type Role = "admin" | "editor" | "reader" | "none";

let unitPrefix = DEFAULT_UNIT_PREFIX;

/** Name units with this prefix from now on (config.json's `unit_prefix`, read at start). */
export function setUnitPrefix(prefix: string): void {
  unitPrefix = prefix;
}

export interface Principal {
  subject: string;
  /** What to call the user: their name, else their user name, else the subject. */
  displayName: string;
  email: string | null;
  role: Role;
  /** Unit groups, e.g. `unit-litigation`. */
  units: string[];
  groups: string[];
}

const ROLE_OF_GROUP: Readonly<Record<string, Role>> = {
  admins: "admin",
  editors: "editor",
  readers: "reader",
};
const RANK: Readonly<Record<Role, number>> = { admin: 3, editor: 2, reader: 1, none: 0 };

function groupsOf(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.filter((g): g is string => typeof g === "string" && g !== "");
  }
  if (typeof value === "string") {
    return value.split(/[\s,]+/).filter((g) => g !== "");
  }
  return [];
}

export function principalOf(claims: Readonly<Record<string, unknown>>): Principal {
  const groups = groupsOf(claims["cognito:groups"]);
  const role = groups
    .map((g) => ROLE_OF_GROUP[g] ?? "none")
    .reduce<Role>((best, r) => (RANK[r] > RANK[best] ? r : best), "none");
  const first = (...keys: string[]) =>
    keys.map((k) => claims[k]).find((v): v is string => typeof v === "string" && v !== "");
  const subject = first("sub") ?? "";
  return {
    subject,
    displayName: first("name", "cognito:username", "preferred_username", "email") ?? subject,
    email: first("email") ?? null,
    role,
    units: groups.filter((g) => g.startsWith(unitPrefix)).sort(),
    groups,
  };
}

export function atLeast(principal: Principal | null, role: Role): boolean {
  return principal !== null && RANK[principal.role] >= RANK[role];
}

/** A unit as people name it: `unit-litigation` → `litigation` (what "my account" shows). */
export function unitName(unit: string): string {
  return unit.startsWith(unitPrefix) ? unit.slice(unitPrefix.length) : unit;
}

/** The unit group for a unit typed as people name it (`litigation`) or as its group. */
export function unitGroup(typed: string): string {
  const text = typed.trim();
  return text.startsWith(unitPrefix) ? text : unitPrefix + text;
}

/** A unit group's name follows the API's rule: lowercase letters, digits, inner hyphens; 64 in all. */
export function isUnitGroup(unit: string): boolean {
  return (
    unit.startsWith(unitPrefix) &&
    unit.length <= 64 &&
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(unit.slice(unitPrefix.length))
  );
}
