import { describe, expect, it } from "vitest";

import { ApiError } from "../api/errors";
import { isUnitGroup, unitGroup, unitName } from "../auth/principal";
import { granteeRefused, grantFrom } from "./sharing";

describe("the sharing form", () => {
  it("sends a user as typed, trimmed", () => {
    expect(grantFrom({ granteeType: "user", grantee: "  bob ", permission: "editor" }, "unit-a")).toEqual({
      grant: { grantee_type: "user", grantee: "bob", permission: "editor" },
    });
  });

  it("takes a unit by its name or its group", () => {
    const expected = { grant: { grantee_type: "unit", grantee: "unit-b", permission: "reader" } };
    expect(grantFrom({ granteeType: "unit", grantee: "b", permission: "reader" }, "unit-a")).toEqual(expected);
    expect(grantFrom({ granteeType: "unit", grantee: "unit-b", permission: "reader" }, "unit-a")).toEqual(expected);
  });

  it("refuses what the API would refuse, before sending", () => {
    const problem = (granteeType: "user" | "unit", grantee: string) =>
      grantFrom({ granteeType, grantee, permission: "reader" }, "unit-a");
    expect(problem("user", "   ")).toEqual({ problem: "required" });
    expect(problem("user", "x".repeat(129))).toEqual({ problem: "tooLong" });
    expect(problem("user", "bob\u0007")).toEqual({ problem: "format" });
    expect(problem("unit", "Litigation")).toEqual({ problem: "format" });
    expect(problem("unit", "lit-")).toEqual({ problem: "format" });
    expect(problem("unit", "x".repeat(60))).toEqual({ problem: "tooLong" });
    // the dossier's own unit sees it already: the API answers 400
    expect(problem("unit", "a")).toEqual({ problem: "ownUnit" });
  });

  it("marks the grantee field when the API's refusal names it", () => {
    const named = new ApiError({ status: 400, details: [{ field: "body.grantee", issue: "the dossier's own unit" }] });
    const other = new ApiError({ status: 400, details: [{ field: "body.permission", issue: "bad" }] });
    expect(granteeRefused(named)).toBe(true);
    expect(granteeRefused(other)).toBe(false);
    expect(granteeRefused(new ApiError({ status: 409 }))).toBe(false);
    expect(granteeRefused(null)).toBe(false);
  });
});

describe("unit names", () => {
  it("are shown without the group prefix and read back with it", () => {
    expect(unitName("unit-litigation")).toBe("litigation");
    expect(unitName("other")).toBe("other");
    expect(unitGroup(" litigation ")).toBe("unit-litigation");
    expect(unitGroup("unit-litigation")).toBe("unit-litigation");
    expect(isUnitGroup("unit-a-b")).toBe(true);
    expect(isUnitGroup("unit-")).toBe(false);
    expect(isUnitGroup("unit-A")).toBe(false);
    expect(isUnitGroup("team-a")).toBe(false);
  });
});
