"""Lambda entry point: S3 Object Created (EventBridge) -> the matching document becomes available.

Unknown keys are logged and ignored; a re-delivered event changes nothing; an error (database
unreachable) is raised so that EventBridge retries and finally sends the event to the DLQ.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from patronus.observability import logger, metrics, tracer
from patronus_document_events.events import handle_object_created
from patronus_document_events.runtime import runtime

runtime.load(os.environ)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=S3EventNotificationEventBridgeModel)
def handler(event: S3EventNotificationEventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    return {"outcome": handle_object_created(event, runtime.documents).value}
