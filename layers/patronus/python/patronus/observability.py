"""The one place that creates the Powertools Logger, Tracer and Metrics; import them from here.

The service name and log level come from the standard POWERTOOLS_* variables set on each
function; every function publishes its metrics in the one ``Patronus`` namespace. The Tracer
is inert outside Lambda (local stack, tests).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "Patronus"

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE)
