"""cutover_gate: GO on a complete set of evidence, and each failing gate named otherwise.

Secrets Manager and CloudWatch are moto's. moto implements neither DMS Serverless
(describe_replications, describe_replication_table_statistics) nor DataSync's execution
results, schedules and list_task_executions: those two clients are botocore Stubbers, which
check every request and every canned answer against the services' API models.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from scripts.cutover_gate import main
from scripts.operator_tools import toolkit

REGION = "eu-west-3"
ACCOUNT = "123456789012"
TASK = "arn:aws:datasync:eu-west-3:123456789012:task/task-0123456789abcdef0"
EXECUTION = f"{TASK}/execution/exec-0123456789abcdef0"


@dataclass
class Evidence:
    """What the operator would have on the eve of the switch; each test spoils one thing."""

    status: str = "stopped"
    tables_loading: int = 0
    validation: str = "Validated"
    latency: float = 2.0
    execution_status: str = "SUCCESS"
    verify_status: str = "SUCCESS"
    schedule_status: str = "DISABLED"
    rotation: bool = False
    db_verify: dict[str, Any] = field(default_factory=dict)
    files_verify: dict[str, Any] = field(default_factory=dict)
    omit: tuple[str, ...] = ()


def reports(folder: Path, evidence: Evidence) -> list[str]:
    now = toolkit.iso()
    samples = {
        "db-verify": {
            "tool": "db_verify",
            "finished_at": now,
            "outcome": "equal",
            "checks": ["schema", "objects", "rows", "checksums"],
            "excluded_tables": [],
            "target": {"database": "legacy"},
            "differences": [],
            **evidence.db_verify,
        },
        "files-verify": {
            "finished_at": now,
            "ok": True,
            "require_content_check": True,
            "summary": {"differences": {"missing": 0}, "not_content_checked": 0},
            **evidence.files_verify,
        },
        "catalog": {"finished_at": now, "dry_run": False, "ok": True},
        "rewrite": {"finished_at": now, "dry_run": False, "ok": True},
    }
    argv = []
    for flag, report in samples.items():
        if flag in evidence.omit:
            continue
        path = folder / f"{flag}.json"
        path.write_text(json.dumps(report))
        argv += [f"--{flag}-report", str(path)]
    return argv


def stub_dms(client: Any, evidence: Evidence, arn: str) -> Stubber:
    stubber = Stubber(client)
    stats = {
        "TablesLoaded": 7,
        "TablesLoading": evidence.tables_loading,
        "TablesQueued": 0,
        "TablesErrored": 0,
    }
    stubber.add_response(
        "describe_replications",
        {
            "Replications": [
                {
                    "ReplicationConfigIdentifier": "patronus-prod-legacy-db",
                    "ReplicationConfigArn": arn,
                    "Status": evidence.status,
                    "ReplicationStats": stats,
                }
            ]
        },
        {"Filters": [{"Name": "replication-config-arn", "Values": [arn]}]},
    )
    stubber.add_response(
        "describe_replication_table_statistics",
        {
            "ReplicationTableStatistics": [
                {
                    "SchemaName": "legacy",
                    "TableName": name,
                    "ValidationState": state,
                    "TableState": "Table completed",
                }
                for name, state in (("customers", "Validated"), ("invoices", evidence.validation))
            ]
        },
        {"ReplicationConfigArn": arn},
    )
    return stubber


def stub_datasync(client: Any, evidence: Evidence) -> Stubber:
    stubber = Stubber(client)
    stubber.add_response(
        "list_task_executions",
        {"TaskExecutions": [{"TaskExecutionArn": EXECUTION, "Status": evidence.execution_status}]},
        {"TaskArn": TASK},
    )
    stubber.add_response(
        "describe_task_execution",
        {
            "TaskExecutionArn": EXECUTION,
            "Status": evidence.execution_status,
            "StartTime": datetime.now(UTC) - timedelta(minutes=30),
            "Result": {"VerifyStatus": evidence.verify_status},
        },
        {"TaskExecutionArn": EXECUTION},
    )
    stubber.add_response(
        "describe_task",
        {
            "TaskArn": TASK,
            "Schedule": {
                "ScheduleExpression": "cron(0 20 ? * MON-FRI *)",
                "Status": evidence.schedule_status,
            },
        },
        {"TaskArn": TASK},
    )
    return stubber


def rotation_function() -> str:
    """A rotation function for moto to attach (it is never invoked: RotateImmediately=False)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", "def handler(event, context):\n    return None\n")
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="rotation", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    function = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="rotate",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    return str(function["FunctionArn"])


@dataclass
class World:
    """moto's Secrets Manager and CloudWatch with one rotation function, and the two stubbed
    clients: made once per module (creating clients is what costs), fresh stubs per test."""

    secrets: Any
    cloudwatch: Any
    dms: Any
    datasync: Any
    rotation_arn: str


@pytest.fixture(scope="module")
def aws() -> Iterator[World]:
    with mock_aws():
        yield World(
            secrets=boto3.client("secretsmanager", region_name=REGION),
            cloudwatch=boto3.client("cloudwatch", region_name=REGION),
            dms=boto3.client("dms", region_name=REGION),
            datasync=boto3.client("datasync", region_name=REGION),
            rotation_arn=rotation_function(),
        )


def run_gate(world: World, tmp_path: Path, evidence: Evidence) -> tuple[int, dict[str, Any]]:
    # Each test has its own replication (its own metrics) and its own secret
    suffix = uuid.uuid4().hex.upper()
    arn = f"arn:aws:dms:{REGION}:{ACCOUNT}:replication-config:{suffix}"
    secret = world.secrets.create_secret(Name=f"patronus/{suffix}", SecretString="{}")["ARN"]
    if evidence.rotation:
        world.secrets.rotate_secret(
            SecretId=secret,
            RotationLambdaARN=world.rotation_arn,
            RotationRules={"AutomaticallyAfterDays": 30},
            RotateImmediately=False,
        )
    for name in ("CDCLatencySource", "CDCLatencyTarget"):
        world.cloudwatch.put_metric_data(
            Namespace="AWS/DMS",
            MetricData=[
                {
                    "MetricName": name,
                    # as DMS Serverless publishes them
                    "Dimensions": [{"Name": "ReplicationConfigId", "Value": f"{ACCOUNT}:{suffix}"}],
                    "Value": evidence.latency,
                    "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
                }
            ],
        )
    clients = {
        "dms": world.dms,
        "datasync": world.datasync,
        "secretsmanager": world.secrets,
        "cloudwatch": world.cloudwatch,
    }
    argv = ["--replication-config-arn", arn, "--datasync-task-arn", TASK, "--admin-secret-id", secret]
    argv += [*reports(tmp_path, evidence), "--report", str(tmp_path / "gate.json")]
    with stub_dms(world.dms, evidence, arn), stub_datasync(world.datasync, evidence):
        code = toolkit.run(lambda args: main(args, clients=clients), argv)
    return code, json.loads((tmp_path / "gate.json").read_text())


def failing(result: dict[str, Any]) -> dict[str, str]:
    return {g["gate"]: g["why"] for g in result["gates"] if g["result"] == "fail"}


def test_a_complete_set_of_evidence_is_a_go(
    aws: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = run_gate(aws, tmp_path, Evidence())
    assert code == toolkit.EXIT_OK, failing(result)
    assert result["go"] is True and len(result["gates"]) == 10
    assert "GO: every gate passes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("evidence", "gate", "why"),
    [
        (Evidence(status="failed"), "dms:replication", "replication is 'failed'"),
        (Evidence(tables_loading=2), "dms:replication", "full load not finished"),
        (Evidence(validation="Pending records"), "dms:validation", "legacy.invoices: Pending records"),
        (Evidence(latency=45.0), "dms:cdc-latency", "CDCLatencySource 45 s"),
        (Evidence(execution_status="ERROR"), "datasync:last-execution", "last execution ERROR"),
        (Evidence(verify_status="ERROR"), "datasync:last-execution", "verification ERROR"),
        (
            Evidence(schedule_status="ENABLED"),
            "datasync:schedule-disabled",
            "disable it before the final pass",
        ),
        (Evidence(rotation=True), "secret:rotation-paused", "cancel-rotate-secret"),
        (Evidence(db_verify={"outcome": "different"}), "report:db_verify", "outcome 'different'"),
        (Evidence(db_verify={"checks": ["schema", "rows"]}), "report:db_verify", "missing objects,checksums"),
        (
            Evidence(db_verify={"target": {"database": "patronus"}}),
            "report:db_verify",
            "not the legacy schema",
        ),
        (Evidence(db_verify={"finished_at": "2026-01-01T00:00:00Z"}), "report:db_verify", "older than 2 h"),
        (Evidence(files_verify={"ok": False}), "report:files_verify", "difference(s)"),
        (Evidence(omit=("rewrite",)), "report:rewrite", "not given"),
    ],
)
def test_each_failing_gate_is_named_with_its_reason(
    aws: World, tmp_path: Path, evidence: Evidence, gate: str, why: str
) -> None:
    code, result = run_gate(aws, tmp_path, evidence)
    assert code == toolkit.EXIT_FAILED and result["go"] is False
    assert list(failing(result)) == [gate]
    assert why in failing(result)[gate]


def test_missing_aws_evidence_fails_its_gates(tmp_path: Path) -> None:
    code = toolkit.run(lambda args: main(args, clients={}), ["--report", str(tmp_path / "gate.json")])
    result = json.loads((tmp_path / "gate.json").read_text())
    assert code == toolkit.EXIT_FAILED
    assert all(g["why"].startswith("not given") for g in result["gates"])


def test_an_unreadable_report_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code = toolkit.run(lambda args: main(args, clients={}), ["--db-verify-report", str(bad)])
    assert code == toolkit.EXIT_USAGE
