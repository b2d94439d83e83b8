import { useId, useState } from "react";
import { useTranslation } from "react-i18next";

import { useDeleteDocument, useDocuments, useDownloadUrl, usePeopleNames, type DocumentOut } from "../api/queries";
import type { DossierRights } from "../auth/rights";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorMessage } from "../components/ErrorMessage";
import { DocumentStatusBadge } from "../components/StatusBadge";
import { useLocale } from "../components/hooks";
import { formatBytes, formatDateTime } from "../format";
import { UploadPanel } from "./UploadPanel";

export function DocumentsSection({ dossierId, rights }: { dossierId: string; rights: DossierRights }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const headingId = useId();
  const documents = useDocuments(dossierId);
  const download = useDownloadUrl(dossierId);
  const remove = useDeleteDocument(dossierId);
  const [toDelete, setToDelete] = useState<DocumentOut | null>(null);
  const items = documents.data?.pages.flatMap((page) => page.items) ?? [];
  const nameOf = usePeopleNames(items.map((document) => document.uploaded_by));

  const onDownload = (document: DocumentOut) => {
    download.mutate(document.id, {
      onSuccess: ({ url }) => {
        // The presigned URL answers with Content-Disposition: attachment: the page stays.
        window.location.assign(url);
      },
    });
  };

  return (
    <section aria-labelledby={headingId} className="documents">
      <h2 id={headingId}>{t("documents.title")}</h2>
      {rights.upload && <UploadPanel dossierId={dossierId} />}
      {documents.isError && <ErrorMessage error={documents.error} />}
      {documents.isPending && <p role="status">{t("common.loading")}</p>}
      {documents.isSuccess && items.length === 0 && <p>{t("documents.none")}</p>}
      {download.isError && <ErrorMessage error={download.error} context={t("documents.downloadFailed")} />}
      {items.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">{t("documents.tableCaption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("document.fields.filename")}</th>
              <th scope="col">{t("document.fields.contentType")}</th>
              <th scope="col" className="numeric">
                {t("document.fields.size")}
              </th>
              <th scope="col">{t("document.fields.status")}</th>
              <th scope="col">{t("document.fields.uploadedBy")}</th>
              <th scope="col">{t("document.fields.createdAt")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("common.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((document) => (
              <tr key={document.id}>
                <td className="filename">{document.filename}</td>
                <td>{document.content_type}</td>
                <td className="numeric">{formatBytes(document.size_bytes, locale)}</td>
                <td>
                  <DocumentStatusBadge status={document.status} />
                </td>
                <td>{nameOf(document.uploaded_by)}</td>
                <td>{formatDateTime(document.created_at, locale)}</td>
                <td>
                  <div className="row-actions">
                  {document.status === "available" && (
                    <button
                      type="button"
                      className="button small"
                      aria-label={t("documents.downloadNamed", { name: document.filename })}
                      disabled={download.isPending && download.variables === document.id}
                      onClick={() => {
                        onDownload(document);
                      }}
                    >
                      {t("documents.download")}
                    </button>
                  )}
                  {rights.deleteDocuments && (
                    <button
                      type="button"
                      className="button small danger"
                      aria-label={t("documents.deleteNamed", { name: document.filename })}
                      onClick={() => {
                        remove.reset();
                        setToDelete(document);
                      }}
                    >
                      {t("documents.delete")}
                    </button>
                  )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {items.some((d) => d.status !== "available" && d.status !== "pending") && (
        <p className="hint">{t("documents.statusNote")}</p>
      )}
      {documents.hasNextPage && (
        <button type="button" className="button" onClick={() => void documents.fetchNextPage()}>
          {t("documents.more")}
        </button>
      )}
      <ConfirmDialog
        open={toDelete !== null}
        title={t("documents.deleteConfirmTitle", { name: toDelete?.filename ?? "" })}
        confirmLabel={t("documents.delete")}
        cancelLabel={t("common.cancel")}
        danger
        busy={remove.isPending}
        onCancel={() => {
          setToDelete(null);
        }}
        onConfirm={() => {
          if (toDelete) {
            remove.mutate(toDelete.id, {
              onSuccess: () => {
                setToDelete(null);
              },
            });
          }
        }}
      >
        <p>{t("documents.deleteExplanation")}</p>
        {remove.isError && <ErrorMessage error={remove.error} />}
      </ConfirmDialog>
    </section>
  );
}
