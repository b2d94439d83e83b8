"""Documents: presigned uploads (single or multipart), confirmation, listing, download, delete.

The bytes never pass through the API. A document is ``pending`` until S3 holds its object with
the declared size; the S3 event handler or an explicit ``complete`` call (whichever comes first)
makes it ``available``. Deleting keeps the S3 object version (the bucket is versioned).

With malware scanning on, verified bytes make the document ``scanning`` instead, pinned to their
object version; the scan result of that version makes it ``available`` (no threat) or
``quarantined`` (a threat: never downloadable); a scan that could not be made (unsupported
object, access denied, failure) leaves it ``scanning``, audited (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum

from patronus.access import outside_units, rights_on
from patronus.db import Database
from patronus.errors import BadRequest, Conflict, Forbidden, NotFound, PatronusError
from patronus.models import PART_PAGE, DocumentRow, DocumentStatus, DossierStatus, Principal, Role
from patronus.repositories import audit, documents, dossiers
from patronus.services import new_public_id, require, split_page, utcnow
from patronus.storage import (
    DocumentStorage,
    MultipartUpload,
    ObjectInfo,
    PresignedPart,
    PresignedPost,
    document_key,
)

ENTITY = "document"


@dataclass(frozen=True)
class NewUpload:
    document: DocumentRow
    post: PresignedPost | None
    multipart: MultipartUpload | None


@dataclass(frozen=True)
class PartPage:
    """Part URLs of a pending multipart upload: ``parts`` from the asked number on, and the
    first part number after them (None when they reach the last part)."""

    document: DocumentRow
    upload_id: str
    part_size: int
    part_count: int
    parts: list[PresignedPart]
    next_part: int | None


class UploadOutcome(StrEnum):
    MADE_AVAILABLE = "made_available"
    ALREADY_DONE = "already_done"
    UNKNOWN_KEY = "unknown_key"
    SIZE_MISMATCH = "size_mismatch"
    DOSSIER_LOCKED = "dossier_locked"
    NOT_STORED = "not_stored"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    TAMPER_REMOVED = "tamper_removed"
    SCAN_STARTED = "scan_started"


class ScanResult(StrEnum):
    """The ``scanResultStatus`` values of GuardDuty Malware Protection for S3."""

    NO_THREATS_FOUND = "NO_THREATS_FOUND"
    THREATS_FOUND = "THREATS_FOUND"
    UNSUPPORTED = "UNSUPPORTED"
    ACCESS_DENIED = "ACCESS_DENIED"
    FAILED = "FAILED"


class ScanOutcome(StrEnum):
    MADE_AVAILABLE = "made_available"
    QUARANTINED = "quarantined"
    # Unsupported, access denied or failed: the document stays scanning (never downloadable).
    NOT_SCANNED = "not_scanned"
    ALREADY_DONE = "already_done"
    UNKNOWN_KEY = "unknown_key"
    # The result of another version than the document's (bytes written after it, removed).
    OTHER_VERSION = "other_version"
    # The result came first, and the bytes it names cannot be the document's.
    NOT_ACCEPTED = "not_accepted"


# The (source, detail-type) of the events GuardDuty Malware Protection for S3 publishes per scan.
SCAN_RESULT_EVENT = ("aws.guardduty", "GuardDuty Malware Protection Object Scan Result")
# Every threat found in the documents bucket counts here (the monitoring stack alarms on it).
THREATS_METRIC = "MalwareThreatsFound"
SCAN_ACTOR = "malware-scan"


class DocumentAction(StrEnum):
    REGISTER = "register a document"
    COMPLETE = "complete an upload"
    ABANDON = "abandon an upload"
    DELETE = "delete a document"


# What a dossier's status allows its documents. Closed: no new document, but uploads already
# registered may finish and admins may delete; archived: nothing changes (docs/decisions.md).
ALLOWED: dict[DossierStatus, frozenset[DocumentAction]] = {
    DossierStatus.OPEN: frozenset(DocumentAction),
    DossierStatus.CLOSED: frozenset({DocumentAction.COMPLETE, DocumentAction.ABANDON, DocumentAction.DELETE}),
    DossierStatus.ARCHIVED: frozenset(),
}


def check_allowed(status: DossierStatus | None, action: DocumentAction) -> None:
    if status is None:
        raise NotFound("no such dossier")
    if action not in ALLOWED[status]:
        raise Conflict(f"an {status.value} dossier does not allow to {action.value}")


def _locked_check(cursor: object, dossier_id: int, action: DocumentAction) -> None:
    """The dossier's status, checked under a shared lock that lasts until the transaction ends."""
    check_allowed(dossiers.status_for_documents(cursor, dossier_id), action)


class DocumentService:
    def __init__(self, db: Database, storage: DocumentStorage, *, scanning: bool = False) -> None:
        self.db = db
        self.storage = storage
        self.scanning = scanning

    def create(
        self,
        principal: Principal,
        dossier_public_id: str,
        *,
        filename: str,
        content_type: str,
        size_bytes: int,
        sha256: str | None,
    ) -> NewUpload:
        require(principal, Role.EDITOR)
        if size_bytes > self.storage.settings.max_upload_bytes:
            raise BadRequest(
                "the file is too large",
                details=[
                    {
                        "field": "body.size_bytes",
                        "issue": f"at most {self.storage.settings.max_upload_bytes} bytes",
                    }
                ],
            )
        with self.db.reading() as cursor:
            dossier = dossiers.get_by_public_id(cursor, dossier_public_id, principal=principal)
        if dossier is None:
            raise NotFound("no such dossier")
        if not rights_on(principal, dossier).edit:
            raise Forbidden("you may read this dossier but not add documents to it")
        check_allowed(dossier.status, DocumentAction.REGISTER)
        public_id = new_public_id()
        key = document_key(dossier.public_id, public_id, filename)
        multipart = None
        if self.storage.needs_multipart(size_bytes):
            multipart = self.storage.start_multipart(key, content_type=content_type, size=size_bytes)
        try:
            with self.db.transaction() as cursor:
                _locked_check(cursor, dossier.id, DocumentAction.REGISTER)
                now = utcnow()
                document_id = documents.insert(
                    cursor,
                    public_id=public_id,
                    dossier_id=dossier.id,
                    filename=filename,
                    content_type=content_type,
                    size_bytes=size_bytes,
                    sha256=sha256,
                    storage_key=key,
                    upload_id=multipart.upload_id if multipart else None,
                    uploaded_by=principal.subject,
                    now=now,
                )
                audit.record(
                    cursor,
                    actor=principal.subject,
                    action="document.upload_requested",
                    entity_type=ENTITY,
                    entity_id=public_id,
                    dossier_id=dossier.id,
                    details={"filename": filename, "size_bytes": size_bytes, "multipart": bool(multipart)},
                    now=now,
                )
                row = documents.get_by_public_id(cursor, public_id)
        except BaseException:
            if multipart:
                self._abort_quietly(key, multipart.upload_id)
            raise
        assert row is not None and row.id == document_id
        post = (
            None
            if multipart
            else self.storage.presign_post(key, content_type=content_type, size=size_bytes, sha256=sha256)
        )
        return NewUpload(row, post, multipart)

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        # The bucket's lifecycle rule aborts leftovers; the original error is what matters.
        with suppress(PatronusError):
            self.storage.abort_multipart(key, upload_id)

    def complete(self, principal: Principal, public_id: str) -> DocumentRow:
        """Confirm an upload: finish the multipart upload if any, then check the object in S3."""
        require(principal, Role.EDITOR)
        document = self._visible(principal, public_id)
        self._require_edit(principal, document)
        if document.status != DocumentStatus.PENDING:
            return document
        self._precheck(document, DocumentAction.COMPLETE)
        if document.upload_id:
            with suppress(NotFound):  # completed by an earlier call: the HEAD below tells
                self.storage.complete_multipart(document.storage_key, document.upload_id)
        stored = self.storage.head(document.storage_key)
        if stored is None:
            raise Conflict("the upload has not been received yet")
        problem = self._problem(document, stored)
        if problem is not None:
            self._discard(document, stored)
            raise Conflict(
                f"{problem}; it was discarded: restart the upload (POST /v1/documents/{public_id}/upload)"
            )
        self._accept(document, stored, actor=principal.subject)
        return self._visible(principal, public_id)

    def part_urls(
        self, principal: Principal, public_id: str, *, first: int, limit: int = PART_PAGE
    ) -> PartPage:
        """Fresh URLs for parts ``first`` to ``first + limit - 1`` of a pending multipart upload
        (the next page, or again for URLs that expired)."""
        require(principal, Role.EDITOR)
        document = self._pending_upload(principal, public_id)
        if not document.upload_id:
            raise Conflict("this upload is a single POST, not a multipart upload")
        plan = self.storage.part_plan(document.size_bytes)
        if first > plan.count:
            raise BadRequest(f"this upload has {plan.count} parts")
        last = min(plan.count, first + min(limit, PART_PAGE) - 1)
        parts = self.storage.presign_parts(
            document.storage_key, document.upload_id, plan, range(first, last + 1)
        )
        return PartPage(
            document,
            document.upload_id,
            plan.part_size,
            plan.count,
            parts,
            last + 1 if last < plan.count else None,
        )

    def restart_upload(self, principal: Principal, public_id: str) -> NewUpload:
        """Upload a pending document again from the start: after ``complete`` discarded bytes of
        the wrong size or checksum, or when the client lost its upload. A multipart upload gets a
        new upload id (the previous one is aborted); a single upload a fresh POST form."""
        require(principal, Role.EDITOR)
        document = self._pending_upload(principal, public_id)
        multipart = None
        if document.upload_id:
            multipart = self.storage.start_multipart(
                document.storage_key, content_type=document.content_type, size=document.size_bytes
            )
        try:
            with self.db.transaction() as cursor:
                _locked_check(cursor, document.dossier_id, DocumentAction.COMPLETE)
                now = utcnow()
                new_id = multipart.upload_id if multipart else None
                if not documents.restart_upload(cursor, document_id=document.id, upload_id=new_id, now=now):
                    raise Conflict("the document is no longer waiting for its upload")
                audit.record(
                    cursor,
                    actor=principal.subject,
                    action="document.upload_restarted",
                    entity_type=ENTITY,
                    entity_id=document.public_id,
                    dossier_id=document.dossier_id,
                    details={"multipart": bool(multipart)},
                    now=now,
                )
                row = documents.get_by_public_id(cursor, document.public_id)
        except BaseException:
            if multipart:
                self._abort_quietly(document.storage_key, multipart.upload_id)
            raise
        if document.upload_id:
            self._abort_quietly(document.storage_key, document.upload_id)
        assert row is not None
        post = (
            None
            if multipart
            else self.storage.presign_post(
                document.storage_key,
                content_type=document.content_type,
                size=document.size_bytes,
                sha256=document.declared_sha256,
            )
        )
        return NewUpload(row, post, multipart)

    def abandon_upload(self, principal: Principal, public_id: str) -> None:
        """The uploader gives up: the document becomes ``expired`` (audited), then its multipart
        upload is aborted and any bytes already stored under its key removed. Retry-safe: the
        storage part runs again for an expired document."""
        require(principal, Role.EDITOR)
        document = self._visible(principal, public_id)
        self._require_edit(principal, document)
        if document.status not in (DocumentStatus.PENDING, DocumentStatus.EXPIRED):
            raise Conflict(f"the document is {document.status.value}: there is no upload to abandon")
        if document.status == DocumentStatus.PENDING:
            with self.db.transaction() as cursor:
                _locked_check(cursor, document.dossier_id, DocumentAction.ABANDON)
                if not self.expire(cursor, document, actor=principal.subject, reason="abandoned"):
                    raise Conflict("the upload finished before it could be abandoned")
        self.clean_storage(document)

    @staticmethod
    def expire(cursor: object, document: DocumentRow, *, actor: str, reason: str) -> bool:
        """pending -> expired with its audit entry, in the caller's transaction."""
        now = utcnow()
        if not documents.mark_expired(cursor, document_id=document.id, now=now):
            return False
        audit.record(
            cursor,
            actor=actor,
            action="document.upload_expired",
            entity_type=ENTITY,
            entity_id=document.public_id,
            dossier_id=document.dossier_id,
            details={"reason": reason, "multipart": bool(document.upload_id)},
            now=now,
        )
        return True

    def clean_storage(self, document: DocumentRow) -> int:
        """Abort an expired document's multipart upload and remove the bytes stored under its
        key (they never became a document's); how many object versions were removed."""
        if document.upload_id:
            with suppress(NotFound):  # already aborted, or completed and then discarded
                self.storage.abort_multipart(document.storage_key, document.upload_id)
        return self.storage.purge(document.storage_key)

    def _pending_upload(self, principal: Principal, public_id: str) -> DocumentRow:
        """The document, if the caller may edit it and it still waits for its bytes."""
        document = self._visible(principal, public_id)
        self._require_edit(principal, document)
        if document.status != DocumentStatus.PENDING:
            raise Conflict(f"the document is {document.status.value}, not waiting for an upload")
        self._precheck(document, DocumentAction.COMPLETE)
        return document

    def record_upload(
        self, storage_key: str, *, size: int, etag: str | None, version_id: str | None = None
    ) -> UploadOutcome:
        """An S3 "Object Created" notification: idempotent, unknown keys are ignored. Bytes
        written to the key of a document whose bytes are fixed (available, or deleted) are
        removed and audited as a tamper attempt."""
        with self.db.reading() as cursor:
            document = documents.get_by_storage_key(cursor, storage_key)
        if document is None:
            return UploadOutcome.UNKNOWN_KEY
        if document.status != DocumentStatus.PENDING:
            if version_id and document.version_id and version_id != document.version_id:
                self._remove_intruder(document, version_id, size=size)
                return UploadOutcome.TAMPER_REMOVED
            return UploadOutcome.ALREADY_DONE
        stored = self.storage.head(storage_key, version_id)  # what S3 holds, not what the event says
        if stored is None:
            return UploadOutcome.NOT_STORED
        if stored.size != document.size_bytes:
            return UploadOutcome.SIZE_MISMATCH
        if self._problem(document, stored) is not None:
            return UploadOutcome.CHECKSUM_MISMATCH
        try:
            changed = self._accept(document, stored, actor="s3-events")
        except Conflict:
            return UploadOutcome.DOSSIER_LOCKED
        if not changed:
            return UploadOutcome.ALREADY_DONE
        return UploadOutcome.SCAN_STARTED if self.scanning else UploadOutcome.MADE_AVAILABLE

    def record_scan_result(
        self, storage_key: str, *, version_id: str | None, result: ScanResult, threats: Sequence[str] = ()
    ) -> ScanOutcome:
        """A malware scan result for an object version: idempotent, unknown keys are ignored.
        A result that comes before the upload was recorded records it first (same checks)."""
        document = self._by_key(storage_key)
        if document is None:
            return ScanOutcome.UNKNOWN_KEY
        if document.status == DocumentStatus.PENDING:
            accepted = self.record_upload(
                storage_key, size=document.size_bytes, etag=None, version_id=version_id
            )
            if accepted not in {UploadOutcome.SCAN_STARTED, UploadOutcome.MADE_AVAILABLE}:
                return ScanOutcome.NOT_ACCEPTED
            document = self._by_key(storage_key)
            assert document is not None
        if version_id and document.version_id and version_id != document.version_id:
            return ScanOutcome.OTHER_VERSION
        details: dict[str, object] = {"result": result.value, "version_id": version_id}
        if result == ScanResult.THREATS_FOUND:
            details["threats"] = list(threats)
            changed = self._scanned(document, DocumentStatus.QUARANTINED, "document.quarantined", details)
            return ScanOutcome.QUARANTINED if changed else ScanOutcome.ALREADY_DONE
        if result == ScanResult.NO_THREATS_FOUND:
            changed = self._scanned(document, DocumentStatus.AVAILABLE, "document.available", details)
            return ScanOutcome.MADE_AVAILABLE if changed else ScanOutcome.ALREADY_DONE
        if document.status != DocumentStatus.SCANNING:
            return ScanOutcome.ALREADY_DONE
        self._record(
            SCAN_ACTOR, "document.scan_incomplete", document.dossier_id, (ENTITY, document.public_id), details
        )
        return ScanOutcome.NOT_SCANNED

    def _by_key(self, storage_key: str) -> DocumentRow | None:
        with self.db.reading() as cursor:
            return documents.get_by_storage_key(cursor, storage_key)

    def _scanned(
        self, document: DocumentRow, status: DocumentStatus, action: str, details: dict[str, object]
    ) -> bool:
        """The scan's verdict, audited; not subject to the dossier's status (the bytes were
        accepted before; a quarantine is never refused)."""
        with self.db.transaction() as cursor:
            now = utcnow()
            changed = documents.mark_scanned(cursor, document_id=document.id, status=status, now=now)
            if changed:
                audit.record(
                    cursor,
                    actor=SCAN_ACTOR,
                    action=action,
                    entity_type=ENTITY,
                    entity_id=document.public_id,
                    dossier_id=document.dossier_id,
                    details=details,
                    now=now,
                )
        return changed

    @staticmethod
    def _problem(document: DocumentRow, stored: ObjectInfo) -> str | None:
        """Why the stored object cannot be the document's bytes, if it cannot."""
        if stored.size != document.size_bytes:
            return f"the uploaded object has {stored.size} bytes, not the {document.size_bytes} declared"
        if document.declared_sha256 and stored.sha256 and stored.sha256 != document.declared_sha256:
            return "the uploaded object's SHA-256 is not the one declared"
        return None

    def _discard(self, document: DocumentRow, stored: ObjectInfo) -> None:
        if stored.version_id:
            self.storage.delete_version(document.storage_key, stored.version_id)
        else:
            self.storage.delete(document.storage_key)

    def _remove_intruder(self, document: DocumentRow, version_id: str, *, size: int) -> None:
        self.storage.delete_version(document.storage_key, version_id)
        self._record(
            "s3-events",
            "document.tamper_attempt",
            document.dossier_id,
            (ENTITY, document.public_id),
            {"version_id": version_id, "size_bytes": size, "removed": True},
        )

    def _precheck(self, document: DocumentRow, action: DocumentAction) -> None:
        """Refuse early, before any storage call (the check that decides is made again under lock)."""
        with self.db.reading() as cursor:
            dossier = dossiers.get_by_id(cursor, document.dossier_id)
        check_allowed(None if dossier is None else dossier.status, action)

    def _accept(self, document: DocumentRow, stored: ObjectInfo, *, actor: str) -> bool:
        """Verified bytes: pending -> available, or pending -> scanning where scanning is on."""
        if self.scanning:
            return self._pin(document, stored, actor, documents.mark_scanning, "document.scanning")
        return self._pin(document, stored, actor, documents.mark_available, "document.available")

    def _pin(
        self,
        document: DocumentRow,
        stored: ObjectInfo,
        actor: str,
        mark: Callable[..., bool],
        action: str,
    ) -> bool:
        """pending -> the status ``mark`` sets, pinned to the stored version, showing only a
        verified SHA-256: the one S3 computed or checked (none when S3 has none for the object)."""
        with self.db.transaction() as cursor:
            _locked_check(cursor, document.dossier_id, DocumentAction.COMPLETE)
            now = utcnow()
            changed = mark(
                cursor,
                document_id=document.id,
                size_bytes=stored.size,
                etag=stored.etag,
                version_id=stored.version_id,
                sha256=stored.sha256,
                now=now,
            )
            if changed:
                audit.record(
                    cursor,
                    actor=actor,
                    action=action,
                    entity_type=ENTITY,
                    entity_id=document.public_id,
                    dossier_id=document.dossier_id,
                    details={
                        "size_bytes": stored.size,
                        "etag": stored.etag,
                        "version_id": stored.version_id,
                        "sha256": stored.sha256,
                    },
                    now=now,
                )
        return changed

    def list_for_dossier(
        self, principal: Principal, dossier_public_id: str, *, after_id: int | None, limit: int
    ) -> tuple[list[DocumentRow], int | None]:
        require(principal, Role.READER)
        with self.db.reading() as cursor:
            dossier = dossiers.get_by_public_id(cursor, dossier_public_id, principal=principal)
            if dossier is None:
                raise NotFound("no such dossier")
            rows = documents.list_for_dossier(cursor, dossier.id, after_id=after_id, limit=limit + 1)
        self._audit_admin_read(
            principal, dossier.id, ("dossier", dossier.public_id), dossier.unit, "documents"
        )
        return split_page(rows, limit, lambda r: r.id)

    def get(self, principal: Principal, public_id: str) -> DocumentRow:
        require(principal, Role.READER)
        document = self._visible(principal, public_id)
        self._audit_admin_read(
            principal, document.dossier_id, (ENTITY, document.public_id), document.dossier_unit, "document"
        )
        return document

    def _visible(self, principal: Principal, public_id: str, *, deleted_too: bool = False) -> DocumentRow:
        """The document if the caller may see its dossier; a deleted one only with
        ``deleted_too`` (a retried delete finishes its storage part)."""
        with self.db.reading() as cursor:
            document = documents.get_by_public_id(cursor, public_id, principal=principal)
        if document is None or (document.status == DocumentStatus.DELETED and not deleted_too):
            raise NotFound("no such document")
        return document

    def _require_edit(self, principal: Principal, document: DocumentRow) -> None:
        with self.db.reading() as cursor:
            dossier = dossiers.get_by_id(cursor, document.dossier_id, principal=principal)
        if dossier is None or not rights_on(principal, dossier).edit:
            raise Forbidden("you may read this dossier but not change its documents")

    def _audit_admin_read(
        self, principal: Principal, dossier_id: int, entity: tuple[str, str], unit: str, what: str
    ) -> None:
        if outside_units(principal, unit):
            self._record(
                principal.subject, "dossier.read_by_admin", dossier_id, entity, {"read": what, "unit": unit}
            )

    def _record(
        self,
        actor: str,
        action: str,
        dossier_id: int,
        entity: tuple[str, str],
        details: dict[str, object],
    ) -> None:
        """One audit entry in a transaction of its own (``actor``: a user's subject, or a
        service's name)."""
        with self.db.transaction() as cursor:
            audit.record(
                cursor,
                actor=actor,
                action=action,
                entity_type=entity[0],
                entity_id=entity[1],
                dossier_id=dossier_id,
                details=details,
                now=utcnow(),
            )

    def download_url(self, principal: Principal, public_id: str) -> tuple[DocumentRow, str]:
        """A presigned GET of the object version the document is pinned to (recorded when it
        became available; the current version for documents recorded before versions were, read
        from the storage); every download is audited with who, which document and which version."""
        require(principal, Role.READER)
        document = self._visible(principal, public_id)
        if document.status == DocumentStatus.QUARANTINED:
            raise Conflict(
                "the document is quarantined: the malware scan found a threat in it; it cannot be downloaded"
            )
        if document.status == DocumentStatus.SCANNING:
            raise Conflict(
                "the document is being scanned for malware; it can be downloaded once the scan finds it clean"
            )
        if document.status != DocumentStatus.AVAILABLE:
            raise Conflict("the document has not finished uploading")
        version_id, etag = document.version_id, document.etag
        if version_id is None:
            stored = self.storage.head(document.storage_key)
            if stored is None:
                raise Conflict("the document's stored object is missing; an administrator must restore it")
            version_id, etag = stored.version_id, stored.etag
        self._record(
            principal.subject,
            "document.downloaded",
            document.dossier_id,
            (ENTITY, document.public_id),
            {"filename": document.filename, "version_id": version_id, "etag": etag},
        )
        url = self.storage.presign_get(
            document.storage_key,
            filename=document.filename,
            content_type=document.content_type,
            version_id=version_id,
        )
        return document, url

    def delete(self, principal: Principal, public_id: str) -> None:
        """Admins only; retry-safe. The record first (with its audit entry, in one transaction
        under the dossier's lock), then the storage: a failure in between leaves a deleted
        document whose object is still current, never an available document without bytes, and
        a retry of the same delete finishes the storage part."""
        require(principal, Role.ADMIN)
        document = self._visible(principal, public_id, deleted_too=True)
        if document.status != DocumentStatus.DELETED:
            with self.db.transaction() as cursor:
                _locked_check(cursor, document.dossier_id, DocumentAction.DELETE)
                now = utcnow()
                if documents.mark_deleted(cursor, document_id=document.id, now=now):
                    audit.record(
                        cursor,
                        actor=principal.subject,
                        action="document.deleted",
                        entity_type=ENTITY,
                        entity_id=document.public_id,
                        dossier_id=document.dossier_id,
                        details={"filename": document.filename},
                        now=now,
                    )
        if document.upload_id:
            self._abort_quietly(document.storage_key, document.upload_id)
        self.storage.delete(document.storage_key)
