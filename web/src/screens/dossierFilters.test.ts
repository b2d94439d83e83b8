import { describe, expect, it } from "vitest";

import { filtersOf, listQueryOf, searchOf, unitChoices } from "./dossierFilters";

describe("the dossier list's filters", () => {
  it("read the address and ask the API for the same", () => {
    const filters = filtersOf(new URLSearchParams("q=bail&status=open&unit=unit-b&mine=1&cursor=abc"));
    expect(filters).toEqual({ q: "bail", status: "open", unit: "unit-b", mine: true, cursor: "abc" });
    expect(listQueryOf(filters)).toEqual({ limit: 20, q: "bail", status: "open", unit: "unit-b", mine: true, cursor: "abc" });
    expect(searchOf(filters)).toBe("?q=bail&status=open&unit=unit-b&mine=1&cursor=abc");
  });

  it("leave out what is not set, and ignore an unknown status", () => {
    const filters = filtersOf(new URLSearchParams("status=lost&mine=yes&cursor="));
    expect(filters).toEqual({ q: "", status: "", unit: "", mine: false, cursor: null });
    expect(listQueryOf(filters)).toEqual({ limit: 20 });
    expect(searchOf(filters)).toBe("");
  });

  it("offer the user's units, and the one in the address even when it is not theirs", () => {
    expect(unitChoices(["unit-b", "unit-a"], "")).toEqual(["unit-a", "unit-b"]);
    expect(unitChoices(["unit-a"], "unit-c")).toEqual(["unit-a", "unit-c"]);
    expect(unitChoices(["unit-a"], "unit-a")).toEqual(["unit-a"]);
  });
});
