import { describe, expect, it } from "vitest";

import { ApiError } from "../api/errors";
import type { Dossier } from "../api/queries";
import { changesFrom, checkDossierFields, refusedFields, valuesOf } from "./dossierForm";

const dossier: Dossier = {
  id: "a".repeat(32),
  reference: "DOS-1",
  title: "Bail",
  description: null,
  status: "open",
  unit: "unit-a",
  owner: "alice",
  version: 4,
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-02T10:00:00Z",
  rights: {
    read: true,
    edit: true,
    share: true,
    move: false,
    archive: false,
    delete_documents: false,
    relation: "unit",
  },
};

describe("the dossier form", () => {
  it("sends only what the user changed from what they read", () => {
    const read = valuesOf(dossier);
    expect(changesFrom(dossier, read)).toEqual({});
    expect(changesFrom(dossier, { ...read, title: "  Bail renouvelé " })).toEqual({ title: "Bail renouvelé" });
    expect(changesFrom(dossier, { ...read, description: "Note", status: "closed" })).toEqual({
      description: "Note",
      status: "closed",
    });
    expect(changesFrom({ ...dossier, description: "Note" }, { ...read, description: "" })).toEqual({
      description: null,
    });
  });

  it("sends a unit typed by its name as its group, and only when it moves", () => {
    const read = valuesOf(dossier);
    expect(read.unit).toBe("unit-a");
    expect(changesFrom(dossier, { ...read, unit: "a" })).toEqual({});
    expect(changesFrom(dossier, { ...read, unit: " archives " })).toEqual({ unit: "unit-archives" });
    expect(changesFrom(dossier, { ...read, unit: "unit-b" })).toEqual({ unit: "unit-b" });
  });

  it("checks the fields as the API does", () => {
    expect(checkDossierFields({ reference: "DOS-2026/01_a.b", title: "T", description: "line\ttab\n" })).toEqual({});
    expect(checkDossierFields({ reference: " ", title: "" })).toEqual({ reference: "required", title: "required" });
    expect(checkDossierFields({ reference: "-DOS" }).reference).toBe("format");
    expect(checkDossierFields({ reference: "DOS 1" }).reference).toBe("format");
    expect(checkDossierFields({ reference: "D".repeat(65) }).reference).toBe("tooLong");
    expect(checkDossierFields({ title: "a\u0007b" }).title).toBe("format");
    expect(checkDossierFields({ description: "x".repeat(10_001) }).description).toBe("tooLong");
  });

  it("marks the fields an API refusal names", () => {
    const refusal = new ApiError({
      status: 400,
      details: [
        { field: "body.reference", issue: "String should match pattern" },
        { field: "header.If-Match", issue: "an ETag" },
      ],
    });
    expect(refusedFields(refusal)).toEqual({ reference: "refused" });
    expect(refusedFields(new ApiError({ status: 409 }))).toEqual({});
    expect(refusedFields(null)).toEqual({});
  });
});
