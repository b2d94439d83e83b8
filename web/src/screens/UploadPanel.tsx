import { useId, useRef, useState, type DragEvent } from "react";
import { useTranslation } from "react-i18next";

import { isApiError } from "../api/errors";
import { useLocale } from "../components/hooks";
import { formatBytes, formatPercent } from "../format";
import { TransferError, type UploadItem } from "../upload/manager";
import { useUploads } from "../upload/useUploads";

/** Drop files here or choose them; each goes straight to S3, with its progress below. */
export function UploadPanel({ dossierId }: { dossierId: string }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const { manager, snapshot } = useUploads();
  const inputId = useId();
  const hintId = useId();
  const headingId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const items = snapshot.items.filter((item) => item.dossierId === dossierId);
  const counted = items.filter((item) => item.state !== "cancelled");
  const loaded = counted.reduce((sum, item) => sum + item.loaded, 0);
  const total = counted.reduce((sum, item) => sum + item.size, 0);
  const finished = items.length > 0 && items.every((item) => item.state === "done" || item.state === "cancelled");

  const addFiles = (files: FileList | null) => {
    if (files && files.length > 0) {
      manager.add(dossierId, Array.from(files));
    }
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    addFiles(event.dataTransfer.files);
  };

  return (
    <div className="upload">
      {/* Dropping files is a pointer shortcut; the "choose files" control inside does the same
          from the keyboard. */}
      {/* eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions */}
      <div
        className={dragging ? "dropzone dragging" : "dropzone"}
        data-testid="dropzone"
        role="group"
        aria-labelledby={hintId}
        onDragEnter={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragOver={(event) => {
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
        }}
        onDragLeave={() => {
          setDragging(false);
        }}
        onDrop={onDrop}
      >
        <p id={hintId}>{t("upload.dropHint")}</p>
        <label htmlFor={inputId} className="button primary">
          {t("upload.choose")}
        </label>
        <input
          ref={input}
          id={inputId}
          className="visually-hidden"
          type="file"
          multiple
          aria-describedby={hintId}
          onChange={(event) => {
            addFiles(event.target.files);
            event.target.value = ""; // choosing the same file again is a new upload
          }}
        />
      </div>
      {items.length > 0 && (
        <section aria-labelledby={headingId} className="upload-list">
          <h3 id={headingId}>{t("upload.title")}</h3>
          <div className="progress-row">
            <progress
              max={Math.max(total, 1)}
              value={loaded}
              aria-label={t("upload.overall")}
              aria-valuetext={t("upload.progressText", {
                percent: formatPercent(total ? loaded / total : 0, locale),
                loaded: formatBytes(loaded, locale),
                total: formatBytes(total, locale),
              })}
            />
            <span>
              {t("upload.progressText", {
                percent: formatPercent(total ? loaded / total : 0, locale),
                loaded: formatBytes(loaded, locale),
                total: formatBytes(total, locale),
              })}
            </span>
          </div>
          <ul>
            {items.map((item) => (
              <UploadRow
                key={item.id}
                item={item}
                onCancel={() => {
                  manager.cancel(item.id);
                }}
                onRetry={() => {
                  manager.retry(item.id);
                }}
              />
            ))}
          </ul>
          {finished && (
            <button
              type="button"
              className="button"
              onClick={() => {
                manager.clearFinished();
              }}
            >
              {t("upload.clear")}
            </button>
          )}
        </section>
      )}
    </div>
  );
}

function failureText(t: ReturnType<typeof useTranslation>["t"], item: UploadItem): string {
  const { error } = item;
  if (item.discarded) {
    return t("upload.failure.discarded");
  }
  if (isApiError(error)) {
    return `${t(`errors.${error.kind}.title`)} ${t(`errors.${error.kind}.next`)}`;
  }
  if (error instanceof TransferError) {
    return error.retryable ? t("upload.failure.storageDown") : t("upload.failure.storageRefused");
  }
  return t("errors.unexpected.title");
}

function UploadRow({ item, onCancel, onRetry }: { item: UploadItem; onCancel: () => void; onRetry: () => void }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const fraction = item.size ? item.loaded / item.size : item.state === "done" ? 1 : 0;
  const active = ["queued", "registering", "uploading", "completing"].includes(item.state);
  const partsDone = item.parts.filter((part) => part.state === "done").length;
  return (
    <li className={`upload-item upload-${item.state}`} data-upload-state={item.state}>
      <div className="upload-name">
        <span className="filename">{item.name}</span> <span className="muted">{formatBytes(item.size, locale)}</span>
      </div>
      <progress
        max={1}
        value={fraction}
        aria-label={t("upload.fileProgress", { name: item.name })}
        aria-valuetext={formatPercent(fraction, locale)}
      />
      <span className="upload-state">
        <span aria-live="polite">{t(`upload.state.${item.state}`)}</span>
        {active && ` ${formatPercent(fraction, locale)}`}
        {item.method === "MULTIPART" && ` · ${t("upload.parts", { count: partsDone, total: item.parts.length })}`}
      </span>
      {item.state === "failed" && <p className="issues">{failureText(t, item)}</p>}
      <div className="row-actions">
        {active && (
          <button type="button" className="button small" onClick={onCancel} aria-label={t("upload.cancelNamed", { name: item.name })}>
            {t("upload.cancel")}
          </button>
        )}
        {item.state === "failed" && (
          <button type="button" className="button small" onClick={onRetry} aria-label={t("upload.retryNamed", { name: item.name })}>
            {t("upload.retry")}
          </button>
        )}
      </div>
    </li>
  );
}
