/**
 * What the signed-in user may do with a dossier: the API says it (each dossier carries the
 * caller's `rights`, computed by the same rules that enforce them); the screens offer only these
 * actions, and a direct URL to one that is not allowed shows a message instead of a form.
 */
import type { Dossier } from "../api/queries";
import { atLeast, type Principal } from "./principal";

export interface DossierRights {
  edit: boolean;
  archive: boolean;
  /** Move it to another unit (admins). */
  move: boolean;
  upload: boolean;
  deleteDocuments: boolean;
  /** Stop sharing the dossier with someone (the unit's editors, admins). */
  share: boolean;
  /** Share it with someone new: as `share`, while the dossier is not archived. */
  grant: boolean;
}

export const NO_RIGHTS: DossierRights = {
  edit: false,
  archive: false,
  move: false,
  upload: false,
  deleteDocuments: false,
  share: false,
  grant: false,
};

/**
 * The API's rights, narrowed by the dossier's state as the API applies it (409 otherwise): an
 * archived dossier takes no change, no new document and no new grant, but may still lose its
 * grants; a closed one takes no new document.
 */
export function dossierRights(dossier: Dossier): DossierRights {
  const live = dossier.status !== "archived";
  const { rights } = dossier;
  return {
    edit: live && rights.edit,
    archive: live && rights.archive,
    move: live && rights.move,
    upload: dossier.status === "open" && rights.edit,
    deleteDocuments: live && rights.delete_documents,
    share: rights.share,
    grant: live && rights.share,
  };
}

/** Editors create dossiers in their units; admins in any unit. */
export function mayCreateDossiers(principal: Principal | null): boolean {
  return atLeast(principal, "admin") || (atLeast(principal, "editor") && principal !== null && principal.units.length > 0);
}
