"""Expiry of abandoned uploads, run on a schedule.

A document stays ``pending`` until its bytes are stored and checked; an upload that nobody
finishes would stay pending forever and its parts would be billed until the bucket's lifecycle
rule aborts them. Each run:

1. expires the pending documents whose upload was last started (registered, or restarted) more
   than the configured age ago: ``expired`` with an audit entry, then their multipart upload is
   aborted and whatever bytes were stored under their key removed;
2. aborts the bucket's multipart uploads under the documents prefix older than that age that no
   pending document references (a failed registration, or a clean-up that failed half-way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from patronus.errors import NotFound
from patronus.models import DocumentStatus
from patronus.observability import logger
from patronus.repositories import documents
from patronus.services import utcnow
from patronus.services.documents import DocumentService
from patronus.storage import KEY_PREFIX

ACTOR = "upload-expiry"
BATCH = 100


@dataclass
class ExpiryReport:
    expired: list[str] = field(default_factory=list)  # public ids of the documents expired
    removed_versions: int = 0  # object versions stored by expired uploads, removed
    aborted_uploads: int = 0  # multipart uploads no pending document referenced, aborted


class UploadExpiry:
    def __init__(self, service: DocumentService, *, max_age: timedelta, batch: int = BATCH) -> None:
        self.service = service
        self.max_age = max_age
        self.batch = batch

    def run(self, now: datetime | None = None, *, max_batches: int = 50) -> ExpiryReport:
        """One pass (``now``: naive UTC, for tests); at most ``max_batches`` x ``batch`` documents,
        the rest waits for the next run."""
        cutoff = (now or utcnow()) - self.max_age
        report = ExpiryReport()
        for _ in range(max_batches):
            with self.service.db.reading() as cursor:
                stale = documents.stale_pending(cursor, before=cutoff, limit=self.batch)
            for document in stale:
                with self.service.db.transaction() as cursor:
                    changed = self.service.expire(
                        cursor, document, actor=ACTOR, reason="not finished in time"
                    )
                if changed:
                    report.expired.append(document.public_id)
                    report.removed_versions += self.service.clean_storage(document)
            if len(stale) < self.batch:
                break
        report.aborted_uploads = self._abort_unreferenced(cutoff)
        logger.info(
            "pending uploads expired",
            extra={
                "expired": len(report.expired),
                "removed_versions": report.removed_versions,
                "aborted_uploads": report.aborted_uploads,
            },
        )
        return report

    def _abort_unreferenced(self, cutoff: datetime) -> int:
        storage = self.service.storage
        aborted = 0
        for upload in storage.multipart_uploads(KEY_PREFIX):
            initiated = upload.initiated.astimezone(UTC).replace(tzinfo=None)
            if initiated >= cutoff:
                continue
            with self.service.db.reading() as cursor:
                document = documents.get_by_storage_key(cursor, upload.key)
            if (
                document is not None
                and document.status == DocumentStatus.PENDING
                and document.upload_id == upload.upload_id
            ):
                continue  # still wanted (its document is pending and not yet stale)
            try:
                storage.abort_multipart(upload.key, upload.upload_id)
            except NotFound:
                continue
            aborted += 1
        return aborted
