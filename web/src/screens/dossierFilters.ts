/**
 * The dossier list's filters as the address says them (`?q=…&status=…&unit=…&mine=1&cursor=…`),
 * so that a filtered page can be bookmarked, shared and reached with back and forward.
 */
import type { DossierListQuery, DossierStatus } from "../api/queries";
import { PAGE_SIZE } from "../api/queries";

export const STATUSES: readonly DossierStatus[] = ["open", "closed", "archived"];

export interface DossierFilters {
  q: string;
  status: DossierStatus | "";
  /** A unit group (`unit-a`), or "" for every unit the user may see. */
  unit: string;
  /** Only the dossiers the user created. */
  mine: boolean;
  cursor: string | null;
}

function isStatus(value: string | null): value is DossierStatus {
  return value !== null && (STATUSES as readonly string[]).includes(value);
}

export function filtersOf(params: URLSearchParams): DossierFilters {
  const status = params.get("status");
  const cursor = params.get("cursor");
  return {
    q: params.get("q") ?? "",
    status: isStatus(status) ? status : "",
    unit: params.get("unit") ?? "",
    mine: params.get("mine") === "1",
    cursor: cursor === null || cursor === "" ? null : cursor,
  };
}

/** The address's query string for these filters ("" when none is set). */
export function searchOf(filters: DossierFilters): string {
  const search = new URLSearchParams();
  if (filters.q) search.set("q", filters.q);
  if (filters.status) search.set("status", filters.status);
  if (filters.unit) search.set("unit", filters.unit);
  if (filters.mine) search.set("mine", "1");
  if (filters.cursor) search.set("cursor", filters.cursor);
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** What the API is asked for these filters. */
export function listQueryOf(filters: DossierFilters): DossierListQuery {
  const query: DossierListQuery = { limit: PAGE_SIZE };
  if (filters.q) query.q = filters.q;
  if (filters.status) query.status = filters.status;
  if (filters.unit) query.unit = filters.unit;
  if (filters.mine) query.mine = true;
  if (filters.cursor) query.cursor = filters.cursor;
  return query;
}

/**
 * The units the unit filter offers: the user's own, plus one named by the address that is not
 * theirs (a dossier shared with them, a link from an admin), so that the filter shows what is
 * applied.
 */
export function unitChoices(own: readonly string[], current: string): string[] {
  const units = [...own];
  if (current && !units.includes(current)) units.push(current);
  return units.sort();
}
