/**
 * What the signed-in user may do with a dossier: the screens offer only these actions, and a
 * direct URL to one that is not allowed shows a message instead of a form.
 */
import type { Dossier } from "../api/queries";
import { atLeast, type Principal } from "./principal";

export interface DossierRights {
  edit: boolean;
  archive: boolean;
  upload: boolean;
  deleteDocuments: boolean;
}

export const NO_RIGHTS: DossierRights = { edit: false, archive: false, upload: false, deleteDocuments: false };

/** The global role decides (readers read, editors write, admins archive and delete); an
 * archived dossier is read-only for everyone. */
export function dossierRights(dossier: Dossier, principal: Principal | null): DossierRights {
  const live = dossier.status !== "archived";
  return {
    edit: live && atLeast(principal, "editor"),
    archive: live && atLeast(principal, "admin"),
    upload: live && atLeast(principal, "editor"),
    deleteDocuments: live && atLeast(principal, "admin"),
  };
}

export function mayCreateDossiers(principal: Principal | null): boolean {
  return atLeast(principal, "editor");
}
