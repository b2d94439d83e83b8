"""Lambda entry point: S3 Object Created (EventBridge) -> the matching document becomes available.

Unknown keys are logged and ignored; a re-delivered event changes nothing; an error (database
unreachable) is raised so that EventBridge retries and finally sends the event to the DLQ.

With SnapStart, the service modules are loaded before the snapshot and the connection and clients
are dropped after each restore (:mod:`patronus.snapstart`).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from patronus import snapstart
from patronus.observability import logger, metrics, tracer
from patronus_document_events.events import handle_object_created
from patronus_document_events.runtime import runtime

runtime.load(os.environ)
snapstart.hooks.before_snapshot(runtime.import_services)
snapstart.hooks.after_restore(runtime.after_restore)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=S3EventNotificationEventBridgeModel)
def handler(event: S3EventNotificationEventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    return {"outcome": handle_object_created(event, runtime.documents).value}
