"""Lambda entry point: an EventBridge schedule -> pending uploads older than the configured age
are expired and their stored parts removed (:mod:`patronus.services.expiry`).

An error (database or storage unreachable) is raised: the run fails, is logged, and the next
scheduled run takes up where it stopped (every step is idempotent).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from patronus.observability import logger, metrics, tracer
from patronus.services.expiry import UploadExpiry
from patronus_upload_expiry.runtime import runtime

runtime.load(os.environ)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    hours = runtime.settings.storage.pending_upload_max_age_hours
    report = UploadExpiry(runtime.documents, max_age=timedelta(hours=hours)).run()
    metrics.add_metric(name="UploadsExpired", unit=MetricUnit.Count, value=len(report.expired))
    metrics.add_metric(name="OrphanUploadsAborted", unit=MetricUnit.Count, value=report.aborted_uploads)
    return {
        "expired": len(report.expired),
        "removed_versions": report.removed_versions,
        "aborted_uploads": report.aborted_uploads,
    }
