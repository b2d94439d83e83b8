"""SQL for the ``documents`` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from patronus.models import DocumentRow, DocumentStatus, Principal
from patronus.repositories import translated_errors
from patronus.repositories.access import visible

_SELECT = (
    "SELECT d.id, d.public_id, d.dossier_id, s.public_id AS dossier_public_id, s.unit AS dossier_unit,"
    " d.filename, d.content_type, d.size_bytes, d.sha256, d.declared_sha256, d.storage_key, d.status,"
    " d.etag, d.version_id, d.upload_id,"
    " d.uploaded_by, d.legacy_path, d.created_at, d.updated_at, d.deleted_at"
    " FROM documents d JOIN dossiers s ON s.id = d.dossier_id"
)


def insert(
    cursor: Any,
    *,
    public_id: str,
    dossier_id: int,
    filename: str,
    content_type: str,
    size_bytes: int,
    sha256: str | None,
    storage_key: str,
    upload_id: str | None,
    uploaded_by: str,
    now: datetime,
) -> int:
    with translated_errors():
        cursor.execute(
            "INSERT INTO documents (public_id, dossier_id, filename, content_type, size_bytes,"
            " declared_sha256, storage_key, status, upload_id, uploaded_by, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, 'pending', %s, %s, %s, %s)",
            (
                public_id,
                dossier_id,
                filename,
                content_type,
                size_bytes,
                sha256,
                storage_key,
                upload_id,
                uploaded_by,
                now,
                now,
            ),
        )
    return int(cursor.lastrowid)


def get_by_public_id(
    cursor: Any, public_id: str, *, principal: Principal | None = None
) -> DocumentRow | None:
    """The document; with ``principal``, only if they may see its dossier."""
    condition, params = visible(principal, "s") if principal is not None else ("1 = 1", [])
    with translated_errors():
        cursor.execute(f"{_SELECT} WHERE d.public_id = %s AND {condition}", (public_id, *params))
        row = cursor.fetchone()
    return DocumentRow.model_validate(row) if row else None


def get_by_storage_key(cursor: Any, storage_key: str) -> DocumentRow | None:
    with translated_errors():
        cursor.execute(f"{_SELECT} WHERE d.storage_key = %s", (storage_key,))
        row = cursor.fetchone()
    return DocumentRow.model_validate(row) if row else None


def list_for_dossier(cursor: Any, dossier_id: int, *, after_id: int | None, limit: int) -> list[DocumentRow]:
    params: list[object] = [dossier_id, DocumentStatus.DELETED.value]
    after = ""
    if after_id is not None:
        after = " AND d.id < %s"
        params.append(after_id)
    with translated_errors():
        cursor.execute(
            f"{_SELECT} WHERE d.dossier_id = %s AND d.status <> %s{after} ORDER BY d.id DESC LIMIT %s",
            (*params, limit),
        )
        rows = cursor.fetchall()
    return [DocumentRow.model_validate(row) for row in rows]


def mark_available(
    cursor: Any,
    *,
    document_id: int,
    size_bytes: int,
    etag: str | None,
    version_id: str | None,
    sha256: str | None,
    now: datetime,
) -> bool:
    """pending -> available, pinned to ``version_id`` with the verified ``sha256``; False when
    it was not pending (already done, or deleted)."""
    with translated_errors():
        cursor.execute(
            "UPDATE documents SET status = 'available', size_bytes = %s, etag = %s, version_id = %s,"
            " sha256 = %s, upload_id = NULL, updated_at = %s WHERE id = %s AND status = 'pending'",
            (size_bytes, etag, version_id, sha256, now, document_id),
        )
    return bool(cursor.rowcount == 1)


def mark_scanning(
    cursor: Any,
    *,
    document_id: int,
    size_bytes: int,
    etag: str | None,
    version_id: str | None,
    sha256: str | None,
    now: datetime,
) -> bool:
    """pending -> scanning, pinned to ``version_id`` (the version the scan result must name)
    with the verified ``sha256``; False when it was not pending."""
    with translated_errors():
        cursor.execute(
            "UPDATE documents SET status = 'scanning', size_bytes = %s, etag = %s, version_id = %s,"
            " sha256 = %s, upload_id = NULL, updated_at = %s WHERE id = %s AND status = 'pending'",
            (size_bytes, etag, version_id, sha256, now, document_id),
        )
    return bool(cursor.rowcount == 1)


def mark_scanned(cursor: Any, *, document_id: int, status: DocumentStatus, now: datetime) -> bool:
    """The scan result: scanning -> available, or scanning | available -> quarantined (a threat
    in bytes that were already available is quarantined too); False when nothing changed."""
    allowed = ("scanning", "available") if status == DocumentStatus.QUARANTINED else ("scanning",)
    with translated_errors():
        cursor.execute(
            "UPDATE documents SET status = %s, updated_at = %s WHERE id = %s AND status IN (%s, %s)",
            (status.value, now, document_id, allowed[0], allowed[-1]),
        )
    return bool(cursor.rowcount == 1)


def mark_deleted(cursor: Any, *, document_id: int, now: datetime) -> bool:
    with translated_errors():
        cursor.execute(
            "UPDATE documents SET status = 'deleted', deleted_at = %s, updated_at = %s"
            " WHERE id = %s AND status <> 'deleted'",
            (now, now, document_id),
        )
    return bool(cursor.rowcount == 1)


def restart_upload(cursor: Any, *, document_id: int, upload_id: str | None, now: datetime) -> bool:
    """A pending document's upload starts again (``upload_id``: the new multipart upload, or
    None for a single POST); False when the document is no longer pending."""
    with translated_errors():
        cursor.execute(
            "UPDATE documents SET upload_id = %s, updated_at = %s WHERE id = %s AND status = 'pending'",
            (upload_id, now, document_id),
        )
    return bool(cursor.rowcount == 1)


def mark_expired(cursor: Any, *, document_id: int, now: datetime) -> bool:
    """pending -> expired (the upload was abandoned); False when it was not pending. The upload
    id is kept so that a retried clean-up can still abort the multipart upload."""
    with translated_errors():
        cursor.execute(
            "UPDATE documents SET status = 'expired', updated_at = %s WHERE id = %s AND status = 'pending'",
            (now, document_id),
        )
    return bool(cursor.rowcount == 1)


def stale_pending(cursor: Any, *, before: datetime, limit: int) -> list[DocumentRow]:
    """Pending documents whose upload was last started before ``before``, oldest first
    (index ``ix_documents_status_updated``)."""
    with translated_errors():
        cursor.execute(
            f"{_SELECT} WHERE d.status = 'pending' AND d.updated_at < %s"
            " ORDER BY d.updated_at, d.id LIMIT %s",
            (before, limit),
        )
        rows = cursor.fetchall()
    return [DocumentRow.model_validate(row) for row in rows]
