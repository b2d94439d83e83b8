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


def test_a_5xx_answer_is_counted_for_its_function_version_and_a_4xx_is_not(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from patronus.observability import SERVER_ERRORS_METRIC, VERSION_DIMENSION, count_server_error

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "patronus-api")
    # When the API answers a client mistake, then a server error, from version 7
    count_server_error(404, "7")
    count_server_error(503, "7")
    # Then one datapoint names the version (what the release's rollback alarm watches)
    (line,) = emf_lines(capsys.readouterr().out)
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == METRICS_NAMESPACE
    assert sorted(directive["Dimensions"][0]) == sorted([VERSION_DIMENSION, "service"])
    assert line[VERSION_DIMENSION] == "7" and line[SERVER_ERRORS_METRIC] == [1.0]


def test_server_errors_are_silent_with_metrics_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from patronus.observability import count_server_error

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    count_server_error(500, "7")
    assert capsys.readouterr().out == ""
