/** The upload manager's view of the API: register a document, confirm its upload. */
import { call, type Api } from "../api/client";
import type { UploadBackend } from "./manager";

export function apiUploadBackend(api: Api): UploadBackend {
  return {
    async register(dossierId, file, signal) {
      return (
        await call(
          api.POST("/v1/dossiers/{dossier_id}/documents", {
            params: { path: { dossier_id: dossierId } },
            body: file,
            signal,
          }),
        )
      ).data;
    },
    async complete(documentId, signal) {
      await call(
        api.POST("/v1/documents/{document_id}/complete", { params: { path: { document_id: documentId } }, signal }),
      );
    },
  };
}
