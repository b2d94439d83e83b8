"""Lambda entry point of the Patronus API.

With SnapStart the initialisation below runs once, when a version is published: the settings are
read, and the hooks of :mod:`patronus_api.priming` warm the code before the snapshot and drop the
connection and clients after each restore.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from patronus import snapstart
from patronus.observability import count_server_error, logger, metrics, tracer
from patronus_api import priming
from patronus_api.app import app
from patronus_api.runtime import runtime

runtime.load(os.environ)
priming.register(snapstart.hooks)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = app.resolve(event, context)
    count_server_error(response["statusCode"], context.function_version)
    return response
