/**
 * The upload manager's view of the API: register a document, fetch part URLs (the next page, or
 * again when they expired), confirm the upload, restart it after a discarded one, abandon it.
 */
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
    async partUrls(documentId, from, limit, signal) {
      return (
        await call(
          api.GET("/v1/documents/{document_id}/parts", {
            params: { path: { document_id: documentId }, query: { from, limit } },
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
    async restart(documentId, signal) {
      return (
        await call(
          api.POST("/v1/documents/{document_id}/upload", { params: { path: { document_id: documentId } }, signal }),
        )
      ).data;
    },
    async abandon(documentId) {
      await call(api.DELETE("/v1/documents/{document_id}/upload", { params: { path: { document_id: documentId } } }));
    },
  };
}
