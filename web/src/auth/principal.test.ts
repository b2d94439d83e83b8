import { describe, expect, it } from "vitest";

import { atLeast, principalOf } from "./principal";

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
});
