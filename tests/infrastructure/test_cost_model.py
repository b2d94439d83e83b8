"""The cost model on the synthesized templates of cdk.json: every resource known, the knobs'
effect visible, the goals checked (docs/cost.md holds the figures)."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.operator_tools.cost.model import (
    BACKUP_COPY,
    BACKUPS,
    DETAILED_METRICS,
    MIGRATION,
    MIGRATION_VPN,
    Estimate,
    Usage,
    estimate,
)
from scripts.operator_tools.cost.prices import PriceBook
from tests.infrastructure.conftest import Synth

# The goals, at the price file's figures: dev idle, and prod at 1M requests and 1 TB.
DEV_IDLE_GOAL_USD = 50.0
PROD_GOAL_USD = 300.0


def _templates(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        env: {name: synth.template(env, name).to_json() for name in synth.stack_names(env)}
        for env in synth.stages
    }


@pytest.fixture(scope="module")
def templates(synth: Synth) -> dict[str, dict[str, Any]]:
    return _templates(synth)


def _lines(result: Estimate, env: str, resource_type: str) -> list[Any]:
    return [line for line in result.lines if line.env == env and line.resource_type == resource_type]


def test_every_resource_of_both_environments_is_priced_or_known_free(templates: dict[str, Any]) -> None:
    result = estimate(templates, Usage(), PriceBook.load())
    assert set(result.environments()) == {"dev", "prod"}
    assert not result.unpriced()
    # Every line is traced to a resource of the templates
    for line in result.lines:
        assert line.logical_id in templates[line.env][line.stack]["Resources"]


def test_dev_idle_pays_no_database_capacity_and_stays_within_its_goal(templates: dict[str, Any]) -> None:
    result = estimate(templates, Usage(requests=0, monthly_active_users=0, uploaded_gb=0), PriceBook.load())
    capacity = _lines(result, "dev", "AWS::RDS::DBInstance")
    assert len(capacity) == 1 and capacity[0].usd == 0  # one instance, paused all month
    assert not _lines(result, "dev", "AWS::RDS::DBProxy")
    # Detailed metrics are another setting's line: the goal is on what dev runs
    run = result.monthly_total("dev") - result.total("dev", (DETAILED_METRICS,))
    assert run <= DEV_IDLE_GOAL_USD


def test_prod_pays_the_proxy_minimum_and_two_instances_and_shows_the_migration_apart(
    templates: dict[str, Any],
) -> None:
    result = estimate(templates, Usage(), PriceBook.load())
    (proxy,) = _lines(result, "prod", "AWS::RDS::DBProxy")
    assert proxy.quantity >= 8 * 730  # 8-ACU minimum, all month
    assert len(_lines(result, "prod", "AWS::RDS::DBInstance")) == 2
    # The VPN and the one-off copies are lines of their own categories
    assert result.total("prod", (MIGRATION_VPN,)) > 0
    assert {line.resource_type for line in result.lines if line.category == MIGRATION} == {
        "AWS::DataSync::Task",
        "AWS::DMS::ReplicationConfig",
    }
    apart = (MIGRATION_VPN, DETAILED_METRICS, BACKUPS, BACKUP_COPY)
    run = result.monthly_total("prod") - result.total("prod", apart)
    assert run <= PROD_GOAL_USD
    # AWS Backup and its copy to the second region, requirements of their own, are lines apart
    assert result.total("prod", (BACKUPS,)) > 0
    assert result.total("prod", (BACKUP_COPY,)) > 0
