"""Lambda entry point: document events from EventBridge.

* S3 "Object Created" of an upload: the matching document becomes available (or, where malware
  scanning is on, scanning).
* "GuardDuty Malware Protection Object Scan Result": a scanning document becomes available (no
  threat) or quarantined (a threat).

Unknown keys are logged and ignored; a re-delivered event changes nothing; an error (database
unreachable, not enough time left) is raised so that EventBridge retries and finally sends the
event to the DLQ.

With SnapStart, the service modules are loaded before the snapshot and the connection and clients
are dropped after each restore (:mod:`patronus.snapstart`).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from patronus import snapstart
from patronus.observability import logger, metrics, tracer
from patronus_document_events.events import handle
from patronus_document_events.runtime import runtime

runtime.load(os.environ)
snapstart.hooks.before_snapshot(runtime.import_services)
snapstart.hooks.after_restore(runtime.after_restore)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"outcome": str(handle(event, context, runtime.documents))}
