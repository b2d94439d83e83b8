"""Handling of one S3 "Object Created" event as EventBridge delivers it."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

from patronus.observability import logger, metrics
from patronus.services.documents import DocumentService, UploadOutcome

_WARNINGS = {UploadOutcome.SIZE_MISMATCH, UploadOutcome.CHECKSUM_MISMATCH, UploadOutcome.TAMPER_REMOVED}


def handle_object_created(
    event: S3EventNotificationEventBridgeModel, service: DocumentService
) -> UploadOutcome:
    detail = event.detail
    bucket = detail.bucket.name
    if bucket != service.storage.settings.bucket:
        logger.warning("event for another bucket ignored", extra={"bucket": bucket})
        return UploadOutcome.UNKNOWN_KEY
    key = detail.object.key
    outcome = service.record_upload(
        key, size=int(detail.object.size or 0), etag=detail.object.etag, version_id=detail.object.version_id
    )
    log = logger.info if outcome not in _WARNINGS else logger.warning
    log("object created", extra={"key": key, "size": detail.object.size, "outcome": outcome.value})
    metrics.add_metric(name=f"Upload_{outcome.value}", unit=MetricUnit.Count, value=1)
    return outcome
