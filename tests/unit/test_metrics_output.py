"""Metrics: EMF lines on stdout when on (as in AWS); nothing at all when turned off (local stack)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider import cold_start

from patronus.observability import METRICS_NAMESPACE, metrics
from scripts.devstack.gateway import LambdaContext


@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("count"):
        metrics.add_metric(name="Counted", unit=MetricUnit.Count, value=1)
    return {}


@pytest.fixture(autouse=True)
def cold_environment() -> Iterator[None]:
    cold_start.is_cold_start = True
    metrics.provider.clear_metrics()
    yield
    cold_start.is_cold_start = True
    metrics.provider.clear_metrics()


def emf_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_with_metrics_on_the_cold_start_and_the_metrics_are_printed_as_emf(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    handler({"count": True}, LambdaContext())
    printed = emf_lines(capsys.readouterr().out)
    names = [m["Name"] for line in printed for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["ColdStart", "Counted"]
    assert {line["_aws"]["CloudWatchMetrics"][0]["Namespace"] for line in printed} == {METRICS_NAMESPACE}


def test_with_metrics_off_nothing_is_printed_and_nothing_is_warned(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "No application metrics to publish" would fail the test
        handler({}, LambdaContext())  # cold start, no application metric
        handler({"count": True}, LambdaContext())
        handler({}, LambdaContext())
    assert capsys.readouterr().out == ""
    # And nothing piles up in memory while metrics are off
    assert metrics.provider.metric_set == {}
