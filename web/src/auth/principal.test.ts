import { afterEach, describe, expect, it } from "vitest";

import { DEFAULT_UNIT_PREFIX } from "../config";
import { atLeast, isUnitGroup, principalOf, setUnitPrefix, unitGroup, unitName } from "./principal";

describe("the principal from ID token claims", () => {
  it("takes the highest global role and the unit groups", () => {
    const p = principalOf({
      sub: "u-1",
      "cognito:username": "alice",
      email: "alice@example.org",
      "cognito:groups": ["readers", "unit-litigation", "editors", "unit-archives", "other"],
    });
    expect(p).toMatchObject({
      subject: "u-1",
      displayName: "alice",
      email: "alice@example.org",
      role: "editor",
      units: ["unit-archives", "unit-litigation"],
    });
    expect(atLeast(p, "reader")).toBe(true);
    expect(atLeast(p, "editor")).toBe(true);
    expect(atLeast(p, "admin")).toBe(false);
  });

  it("reads groups flattened into a string, and has no role without a global group", () => {
    expect(principalOf({ sub: "x", "cognito:groups": "admins,unit-a" }).role).toBe("admin");
    const nobody = principalOf({ sub: "x", "cognito:groups": ["unit-a"] });
    expect(nobody.role).toBe("none");
    expect(nobody.displayName).toBe("x");
    expect(atLeast(nobody, "reader")).toBe(false);
    expect(atLeast(null, "reader")).toBe(false);
  });

  describe("with the deployment's unit prefix", () => {
    afterEach(() => {
      setUnitPrefix(DEFAULT_UNIT_PREFIX);
    });

    it("names units with the prefix config.json gives", () => {
      setUnitPrefix("team_");
      const p = principalOf({ sub: "x", "cognito:groups": ["editors", "team_tax", "unit-a"] });
      expect(p.units).toEqual(["team_tax"]);
      expect(unitName("team_tax")).toBe("tax");
      expect(unitGroup(" tax ")).toBe("team_tax");
      expect(unitGroup("team_tax")).toBe("team_tax");
      expect(isUnitGroup("team_tax")).toBe(true);
      expect(isUnitGroup("unit-a")).toBe(false);
    });
  });
});
