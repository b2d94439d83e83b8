import { useKnownUnits } from "../api/queries";
import { atLeast, unitName } from "../auth/principal";
import { usePrincipal } from "./hooks";

/**
 * The user's own units and those the API has met, sorted, for those who may ask (editors and
 * admins, at least `role`); the user's own units only for the others.
 */
export function useUnitSuggestions(role: "editor" | "admin" = "editor"): string[] {
  const principal = usePrincipal();
  const known = useKnownUnits(atLeast(principal, role));
  return [...new Set([...(principal?.units ?? []), ...(known.data ?? [])])].sort();
}

/** Suggestions for a field where a unit is typed (`list={id}` on the field): the units as people
 * name them (`litigation`). Suggestions only: any unit may be typed. */
export function UnitSuggestions({ id }: { id: string }) {
  const units = useUnitSuggestions();
  return (
    <datalist id={id}>
      {units.map((unit) => (
        <option key={unit} value={unitName(unit)} />
      ))}
    </datalist>
  );
}
