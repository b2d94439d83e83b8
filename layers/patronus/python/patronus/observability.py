"""The one place that creates the Powertools Logger, Tracer and Metrics; import them from here.

The service name and log level come from the standard POWERTOOLS_* variables set on each
function; every function publishes its metrics in the one ``Patronus`` namespace.

The Tracer is created only where tracing can happen: in Lambda, unless POWERTOOLS_TRACE_DISABLED
is set (the same rule the Powertools Tracer applies). Elsewhere (local stack, tests, tracing
turned off) a stand-in with the same decorators is used, because the Powertools Tracer imports
the X-Ray SDK, and with it botocore, even when tracing is disabled: about half a second of cold
start for nothing.

Metrics follow Powertools' own switch, POWERTOOLS_METRICS_DISABLED (the local stack sets it; in
AWS it is unset). Off means silent: Powertools alone would still print the cold-start metric and
warn "No application metrics to publish" on every request that added none.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from patronus.flags import env_flag

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

METRICS_NAMESPACE = "Patronus"
# 5xx answers by function version: what the release's rollback alarm watches (client mistakes,
# answered 4xx, and API Gateway's own errors are not counted).
SERVER_ERRORS_METRIC = "ServerErrors"
VERSION_DIMENSION = "FunctionVersion"
F = TypeVar("F", bound=Callable[..., Any])


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    """True in Lambda (not under SAM local or Chalice) unless POWERTOOLS_TRACE_DISABLED is set."""
    if env_flag(environ, "POWERTOOLS_TRACE_DISABLED"):
        return False
    emulated = environ.get("AWS_SAM_LOCAL") or environ.get("AWS_CHALICE_CLI_MODE")
    return bool(environ.get("LAMBDA_TASK_ROOT")) and not emulated


class DisabledTracer:
    """What the Powertools Tracer does when tracing is off, without importing the X-Ray SDK."""

    disabled = True

    def capture_lambda_handler(self, lambda_handler: F | None = None, **_: Any) -> Any:
        return lambda_handler if lambda_handler is not None else (lambda handler: handler)

    def capture_method(self, method: F | None = None, **_: Any) -> Any:
        return method if method is not None else (lambda function: function)

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        return None


class MetricsProvider(AmazonCloudWatchEMFProvider):
    """Powertools' CloudWatch EMF provider, silent while metrics are disabled."""

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        if is_metrics_disabled():
            self.clear_metrics()
            return
        super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)

    def add_cold_start_metric(self, context: Any) -> None:
        if not is_metrics_disabled():
            super().add_cold_start_metric(context)


def _tracer() -> Tracer | DisabledTracer:
    if not tracing_enabled(os.environ):
        return DisabledTracer()
    from aws_lambda_powertools import Tracer

    return Tracer()


logger = Logger()
tracer = _tracer()
metrics = Metrics(provider=MetricsProvider(namespace=METRICS_NAMESPACE))


def count_server_error(status_code: int, function_version: str) -> None:
    """Publish one ``ServerErrors`` datapoint for ``function_version`` when the answer is a 5xx."""
    if status_code < 500 or is_metrics_disabled():
        return
    with single_metric(
        name=SERVER_ERRORS_METRIC, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
    ) as metric:
        metric.add_dimension(name=VERSION_DIMENSION, value=function_version)
