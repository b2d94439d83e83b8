"""Handling of one event as EventBridge delivers it: S3 "Object Created" of an upload, or the
GuardDuty Malware Protection scan result of an uploaded object."""

from __future__ import annotations

import math
from typing import Annotated, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import (
    EventBridgeModel,
    S3EventNotificationEventBridgeModel,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from patronus.deadline import deadline
from patronus.observability import logger, metrics
from patronus.services.documents import (
    SCAN_RESULT_EVENT,
    THREATS_METRIC,
    DocumentService,
    ScanOutcome,
    ScanResult,
    UploadOutcome,
)

OBJECT_CREATED = ("aws.s3", "Object Created")
_WARNINGS = {UploadOutcome.SIZE_MISMATCH, UploadOutcome.CHECKSUM_MISMATCH, UploadOutcome.TAMPER_REMOVED}
_SCAN_WARNINGS = {ScanOutcome.QUARANTINED, ScanOutcome.NOT_SCANNED, ScanOutcome.NOT_ACCEPTED}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class ScannedObject(_Model):
    bucket_name: Annotated[str, Field(alias="bucketName")]
    object_key: Annotated[str, Field(alias="objectKey")]
    version_id: Annotated[str | None, Field(alias="versionId")] = None
    etag: Annotated[str | None, Field(alias="eTag")] = None


class Threat(_Model):
    name: str


class ScanResultDetails(_Model):
    scan_result_status: Annotated[ScanResult, Field(alias="scanResultStatus")]
    threats: list[Threat] | None = None


class ScanResultDetail(_Model):
    """The ``detail`` of a "GuardDuty Malware Protection Object Scan Result" event."""

    scan_status: Annotated[str, Field(alias="scanStatus")]
    resource_type: Annotated[str, Field(alias="resourceType")] = "S3_OBJECT"
    s3_object_details: Annotated[ScannedObject, Field(alias="s3ObjectDetails")]
    scan_result_details: Annotated[ScanResultDetails, Field(alias="scanResultDetails")]


class ScanResultEvent(EventBridgeModel):
    detail: ScanResultDetail


def handle(event: dict[str, Any], context: LambdaContext, service: DocumentService) -> str:
    """Dispatch ``event`` by source and detail type, every dependency call bounded by the time
    the invocation has left (patronus.deadline): a call that could not finish in time is not
    started, and the error makes Lambda retry the event, then send it to the dead-letter queue."""
    deadline.start(context.get_remaining_time_in_millis() / 1000, cap=math.inf)
    try:
        kind = (event.get("source"), event.get("detail-type"))
        if kind == OBJECT_CREATED:
            return handle_object_created(S3EventNotificationEventBridgeModel.model_validate(event), service)
        if kind == SCAN_RESULT_EVENT:
            return handle_scan_result(ScanResultEvent.model_validate(event), service)
        logger.warning("unexpected event ignored", extra={"source": kind[0], "detail_type": kind[1]})
        return "ignored"
    finally:
        deadline.clear()


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


def handle_scan_result(event: ScanResultEvent, service: DocumentService) -> ScanOutcome:
    scanned = event.detail.s3_object_details
    result = event.detail.scan_result_details
    if scanned.bucket_name != service.storage.settings.bucket:
        logger.warning("scan result for another bucket ignored", extra={"bucket": scanned.bucket_name})
        return ScanOutcome.UNKNOWN_KEY
    threats = [threat.name for threat in result.threats or []]
    if result.scan_result_status == ScanResult.THREATS_FOUND:
        # Counted whatever the document's state: the alarm is about the bucket receiving malware.
        metrics.add_metric(name=THREATS_METRIC, unit=MetricUnit.Count, value=1)
    outcome = service.record_scan_result(
        scanned.object_key,
        version_id=scanned.version_id,
        result=result.scan_result_status,
        threats=threats,
    )
    log = logger.warning if outcome in _SCAN_WARNINGS else logger.info
    log(
        "scan result",
        extra={
            "key": scanned.object_key,
            "version_id": scanned.version_id,
            "scan_status": event.detail.scan_status,
            "result": result.scan_result_status.value,
            "threats": threats,
            "outcome": outcome.value,
        },
    )
    metrics.add_metric(name=f"Scan_{outcome.value}", unit=MetricUnit.Count, value=1)
    return outcome
