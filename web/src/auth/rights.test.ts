import { describe, expect, it } from "vitest";

import type { Dossier, DossierRightsOut } from "../api/queries";
import { principalOf } from "./principal";
import { dossierRights, mayCreateDossiers } from "./rights";

const READER_RIGHTS: DossierRightsOut = {
  read: true,
  edit: false,
  share: false,
  move: false,
  archive: false,
  delete_documents: false,
  relation: "grant",
};

function dossier(status: Dossier["status"], rights: Partial<DossierRightsOut>): Dossier {
  return {
    id: "b".repeat(32),
    reference: "DOS-2",
    title: "Partage",
    description: null,
    status,
    unit: "unit-a",
    owner: "alice",
    version: 1,
    created_at: "2026-12-01T10:00:00Z",
    updated_at: "2026-12-01T10:00:00Z",
    rights: { ...READER_RIGHTS, ...rights },
  };
}

describe("the actions a dossier offers", () => {
  it("come from the rights the API sends, not from the role", () => {
    // an editor reached through a reader grant: the API says read only
    expect(dossierRights(dossier("open", {}))).toEqual({
      edit: false,
      archive: false,
      move: false,
      upload: false,
      deleteDocuments: false,
      share: false,
      grant: false,
    });
    // a unit editor: edit, upload and share, but not archive nor delete documents
    expect(dossierRights(dossier("open", { edit: true, share: true, relation: "unit" }))).toEqual({
      edit: true,
      archive: false,
      move: false,
      upload: true,
      deleteDocuments: false,
      share: true,
      grant: true,
    });
  });

  it("follow the dossier's status as the API applies it", () => {
    const all = { edit: true, share: true, archive: true, delete_documents: true, move: true, relation: "admin" as const };
    const closed = dossierRights(dossier("closed", all));
    expect(closed).toMatchObject({ edit: true, upload: false, deleteDocuments: true, grant: true, archive: true, move: true });
    const archived = dossierRights(dossier("archived", all));
    // an archived dossier changes no more, but may still lose its grants
    expect(archived).toEqual({
      edit: false,
      archive: false,
      move: false,
      upload: false,
      deleteDocuments: false,
      share: true,
      grant: false,
    });
  });
});

describe("who may create dossiers", () => {
  it("is an editor with a unit, or an admin", () => {
    expect(mayCreateDossiers(principalOf({ sub: "e", "cognito:groups": ["editors", "unit-a"] }))).toBe(true);
    expect(mayCreateDossiers(principalOf({ sub: "e", "cognito:groups": ["editors"] }))).toBe(false);
    expect(mayCreateDossiers(principalOf({ sub: "a", "cognito:groups": ["admins"] }))).toBe(true);
    expect(mayCreateDossiers(principalOf({ sub: "r", "cognito:groups": ["readers", "unit-a"] }))).toBe(false);
    expect(mayCreateDossiers(null)).toBe(false);
  });
});
