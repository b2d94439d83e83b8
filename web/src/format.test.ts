import { describe, expect, it } from "vitest";

import { formatBytes, formatDateTime, formatNumber, formatPercent } from "./format";

// Intl separates French thousands and units with narrow or ordinary no-break spaces.
const spaces = (text: string) => text.replace(/[\u202f\u00a0]/g, " ");

describe("formats per locale", () => {
  it("writes sizes with the locale's unit names and decimal separator", () => {
    expect(spaces(formatBytes(0, "fr"))).toBe("0 octet");
    expect(spaces(formatBytes(999, "en"))).toBe("999 bytes");
    expect(spaces(formatBytes(1500, "en"))).toBe("1.5 kB");
    expect(spaces(formatBytes(1500, "fr"))).toBe("1,5 ko");
    expect(spaces(formatBytes(12_345_678, "fr"))).toBe("12,3 Mo");
    expect(spaces(formatBytes(209_715_200, "en"))).toBe("210 MB");
    expect(spaces(formatBytes(5e12, "en"))).toBe("5 TB");
  });

  it("writes dates and numbers the locale's way", () => {
    const when = "2026-12-03T10:05:00Z";
    expect(formatDateTime(when, "fr")).toMatch(/3 déc\. 2026/);
    expect(formatDateTime(when, "en")).toMatch(/Dec 3, 2026/);
    expect(spaces(formatNumber(1234567.5, "fr"))).toBe("1 234 567,5");
    expect(formatNumber(1234567.5, "en")).toBe("1,234,567.5");
    expect(spaces(formatPercent(0.425, "fr"))).toBe("43 %");
    expect(formatPercent(0.425, "en")).toBe("43%");
  });
});
