"""The go/no-go gates of the cutover: each reads one piece of evidence and says pass or fail, and why.

Two kinds of evidence:

* **AWS, by API**: the DMS Serverless replication (state, CDC latency from CloudWatch, per-table
  validation), the last DataSync execution (status and verification result), the DataSync task's
  schedule (must be disabled: a scheduled run makes the final pass refuse), the rotation of the
  Aurora admin secret (must be paused: DMS signs in with it).
* **Reports** the tools wrote (``--report``): ``db_verify`` (equal, every check, nothing excluded,
  on the legacy schema), ``files_verify`` (identical), ``catalog_legacy`` and ``rewrite_refs``
  (not dry runs, ok); each recent enough.

A gate whose evidence was not given fails ("not given"): the gate passes only on a complete set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scripts.operator_tools import toolkit

DB_VERIFY_CHECKS = ("schema", "objects", "rows", "checksums")
# DMS Serverless replication states in which the data is still being replicated, or was stopped
# by the operator after the catch-up (the freeze): both are fine at the gate.
DMS_GOOD_STATES = {"running", "stopped"}
DMS_VALIDATED = "Validated"


@dataclass(frozen=True)
class Gate:
    name: str
    ok: bool
    why: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"gate": self.name, "result": "pass" if self.ok else "fail", "why": self.why, **self.evidence}


@dataclass(frozen=True)
class GateOptions:
    now: datetime
    max_report_age: timedelta = timedelta(hours=2)
    max_cdc_latency_seconds: float = 10.0
    legacy_database: str = "legacy"


def not_given(name: str, what: str) -> Gate:
    return Gate(name, False, f"not given ({what})")


# -- reports ---------------------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise toolkit.ToolError(f"cannot read the report {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise toolkit.ToolError(f"the report {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise toolkit.ToolError(f"the report {path} is not a JSON object")
    return data


def _age_problem(report: Mapping[str, Any], options: GateOptions) -> str | None:
    finished = report.get("finished_at")
    if not isinstance(finished, str):
        return "the report has no finished_at time"
    try:
        moment = datetime.fromisoformat(finished.replace("Z", "+00:00"))
    except ValueError:
        return f"unreadable finished_at {finished!r}"
    age = options.now - moment
    if age > options.max_report_age:
        hours = options.max_report_age.total_seconds() / 3600
        return f"finished at {finished}, older than {hours:g} h: run it again"
    return None


def check_db_verify(report: Mapping[str, Any], options: GateOptions) -> str | None:
    if report.get("tool") != "db_verify":
        return "not a db_verify report"
    if report.get("outcome") != "equal":
        return f"outcome {report.get('outcome')!r}, {len(report.get('differences', []))} difference(s)"
    missing = [c for c in DB_VERIFY_CHECKS if c not in report.get("checks", [])]
    if missing:
        return f"not every check ran (missing {','.join(missing)}): run without --checks"
    if report.get("excluded_tables"):
        return f"tables were left out: {', '.join(report['excluded_tables'])}"
    target = (report.get("target") or {}).get("database")
    if target != options.legacy_database:
        return f"compared {target!r}, not the legacy schema {options.legacy_database!r}"
    return None


def check_files_verify(report: Mapping[str, Any], options: GateOptions) -> str | None:
    if "summary" not in report or "ok" not in report:
        return "not a files_verify report"
    if not report["ok"]:
        summary = report["summary"]
        differences = sum((summary.get("differences") or {}).values())
        return f"{differences} difference(s), {summary.get('not_content_checked', 0)} not content-checked"
    if not report.get("require_content_check", False) and report["summary"].get("not_content_checked"):
        return "some files were not content-checked: run with --require-content-check"
    return None


def _check_applied(tool: str) -> Callable[[Mapping[str, Any], GateOptions], str | None]:
    def check(report: Mapping[str, Any], options: GateOptions) -> str | None:
        if "dry_run" not in report or "ok" not in report:
            return f"not a {tool} report"
        if report["dry_run"]:
            return "a dry run: run it for real"
        if not report["ok"]:
            return f"{tool} reported problems: {report.get('problems') or report.get('counts')}"
        return None

    return check


REPORT_GATES: dict[str, tuple[str, Callable[[Mapping[str, Any], GateOptions], str | None]]] = {
    "db_verify": ("final db_verify on the legacy schema", check_db_verify),
    "files_verify": ("files_verify of the share against the bucket", check_files_verify),
    "catalog": ("catalog_legacy registered every file", _check_applied("catalog_legacy")),
    "rewrite": ("rewrite_refs resolved every reference", _check_applied("rewrite_refs")),
}


def report_gate(kind: str, path: Path | None, options: GateOptions) -> Gate:
    name = f"report:{kind}"
    what, check = REPORT_GATES[kind]
    if path is None:
        return not_given(name, what)
    report = _load(path)
    problem = check(report, options) or _age_problem(report, options)
    evidence = {"file": str(path), "finished_at": report.get("finished_at")}
    return Gate(name, problem is None, problem or what, evidence)


# -- AWS -------------------------------------------------------------------------------------------


def dms_replication_gate(dms: Any, arn: str) -> tuple[Gate, dict[str, Any] | None]:
    name = "dms:replication"
    found = dms.describe_replications(Filters=[{"Name": "replication-config-arn", "Values": [arn]}])
    replications = found.get("Replications", [])
    if not replications:
        return Gate(name, False, f"no replication for {arn}: was it ever started?"), None
    replication = replications[0]
    status = str(replication.get("Status", "")).lower()
    stats = replication.get("ReplicationStats", {})
    evidence = {"status": status, "stop_reason": replication.get("StopReason")}
    if replication.get("FailureMessages"):
        return Gate(name, False, "; ".join(replication["FailureMessages"]), evidence), replication
    if status not in DMS_GOOD_STATES:
        return Gate(name, False, f"replication is {status!r}, not running or stopped", evidence), replication
    if stats.get("TablesErrored"):
        return Gate(name, False, f"{stats['TablesErrored']} table(s) errored", evidence), replication
    loading = (stats.get("TablesLoading") or 0) + (stats.get("TablesQueued") or 0)
    if loading:
        return Gate(
            name, False, f"full load not finished: {loading} table(s) loading or queued", evidence
        ), replication
    return Gate(name, True, f"replication {status}, full load complete", evidence), replication


def dms_validation_gate(dms: Any, arn: str) -> Gate:
    name = "dms:validation"
    tables: list[dict[str, Any]] = []
    paginator_args: dict[str, Any] = {"ReplicationConfigArn": arn}
    while True:
        page = dms.describe_replication_table_statistics(**paginator_args)
        tables.extend(page.get("ReplicationTableStatistics", []))
        if not page.get("Marker"):
            break
        paginator_args["Marker"] = page["Marker"]
    if not tables:
        return Gate(name, False, "DMS reports no table: nothing was replicated")
    bad = [
        f"{t.get('SchemaName')}.{t.get('TableName')}: {t.get('ValidationState')}"
        f" ({t.get('ValidationFailedRecords', 0)} failed, {t.get('ValidationPendingRecords', 0)} pending)"
        for t in tables
        if t.get("ValidationState") != DMS_VALIDATED
    ]
    evidence = {"tables": len(tables), "not_validated": bad[:20]}
    if bad:
        return Gate(name, False, f"{len(bad)} of {len(tables)} table(s) not validated: {bad[0]}", evidence)
    return Gate(name, True, f"every table validated ({len(tables)})", evidence)


def _names_replication(value: str, replication: Mapping[str, Any], arn: str) -> bool:
    """Whether a metric's dimension value names the replication: its identifier, its ARN, or the
    ``<account>:<last part of the ARN>`` with which DMS Serverless publishes its metrics."""
    suffix = arn.rsplit(":", 1)[-1]
    names = {arn, suffix, str(replication.get("ReplicationConfigIdentifier", arn))}
    return value in names or value.endswith(f":{suffix}")


def dms_latency_gate(
    cloudwatch: Any, replication: Mapping[str, Any] | None, arn: str, options: GateOptions
) -> Gate:
    """CDCLatencySource and CDCLatencyTarget (AWS/DMS) over the last 10 minutes: the replication's
    metrics are found by listing them and keeping those with a dimension naming it."""
    name = "dms:cdc-latency"
    worst: dict[str, float] = {}
    for metric_name in ("CDCLatencySource", "CDCLatencyTarget"):
        listed = cloudwatch.list_metrics(Namespace="AWS/DMS", MetricName=metric_name).get("Metrics", [])
        mine = [
            m
            for m in listed
            if any(
                _names_replication(str(d.get("Value")), replication or {}, arn)
                for d in m.get("Dimensions", [])
            )
        ]
        for metric in mine:
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/DMS",
                MetricName=metric_name,
                Dimensions=metric["Dimensions"],
                StartTime=options.now - timedelta(minutes=10),
                EndTime=options.now,
                Period=60,
                Statistics=["Maximum"],
            ).get("Datapoints", [])
            latest = max(points, key=lambda p: p["Timestamp"], default=None)
            if latest is not None:
                worst[metric_name] = max(worst.get(metric_name, 0.0), float(latest["Maximum"]))
    if len(worst) < 2:
        return Gate(name, False, "no CDC latency reported in the last 10 minutes (is CDC running?)")
    evidence = {"seconds": worst}
    limit = options.max_cdc_latency_seconds
    high = {k: v for k, v in worst.items() if v > limit}
    if high:
        return Gate(
            name,
            False,
            f"latency above {limit:g} s: " + ", ".join(f"{k} {v:g} s" for k, v in high.items()),
            evidence,
        )
    return Gate(name, True, "latency " + ", ".join(f"{k} {v:g} s" for k, v in worst.items()), evidence)


def datasync_execution_gate(datasync: Any, task_arn: str) -> Gate:
    name = "datasync:last-execution"
    executions = datasync.list_task_executions(TaskArn=task_arn).get("TaskExecutions", [])
    if not executions:
        return Gate(name, False, "the task never ran")
    described = [
        datasync.describe_task_execution(TaskExecutionArn=e["TaskExecutionArn"]) for e in executions[-10:]
    ]
    last = max(described, key=lambda d: d.get("StartTime") or datetime.min)
    result = last.get("Result", {})
    evidence = {
        "execution": last.get("TaskExecutionArn"),
        "status": last.get("Status"),
        "verify_status": result.get("VerifyStatus"),
    }
    if last.get("Status") != "SUCCESS":
        return Gate(
            name,
            False,
            f"last execution {last.get('Status')}: {result.get('ErrorDetail', '')}".strip(),
            evidence,
        )
    if result.get("VerifyStatus") != "SUCCESS":
        return Gate(
            name,
            False,
            f"verification {result.get('VerifyStatus')}: {result.get('VerifyErrorDetail', '')}".strip(),
            evidence,
        )
    return Gate(name, True, "last execution succeeded and its verification passed", evidence)


def datasync_schedule_gate(datasync: Any, task_arn: str) -> Gate:
    name = "datasync:schedule-disabled"
    task = datasync.describe_task(TaskArn=task_arn)
    schedule = task.get("Schedule")
    if not schedule:
        return Gate(name, True, "the task has no schedule")
    status = schedule.get("Status", "ENABLED")
    evidence = {"expression": schedule.get("ScheduleExpression"), "status": status}
    if status != "DISABLED":
        return Gate(
            name,
            False,
            f"schedule {schedule.get('ScheduleExpression')} is {status}: disable it before the final pass",
            evidence,
        )
    return Gate(name, True, "schedule disabled", evidence)


def rotation_gate(secrets: Any, secret_id: str) -> Gate:
    name = "secret:rotation-paused"
    secret = secrets.describe_secret(SecretId=secret_id)
    evidence = {"secret": secret.get("Name"), "rotation_enabled": bool(secret.get("RotationEnabled"))}
    if secret.get("RotationEnabled"):
        return Gate(
            name,
            False,
            "rotation of the Aurora admin secret is on: DMS signs in with it; pause it for the window "
            "(aws secretsmanager cancel-rotate-secret)",
            evidence,
        )
    return Gate(name, True, "rotation paused", evidence)


@dataclass(frozen=True)
class AwsTargets:
    replication_config_arn: str | None = None
    datasync_task_arn: str | None = None
    admin_secret_id: str | None = None


def aws_gates(clients: Mapping[str, Any], targets: AwsTargets, options: GateOptions) -> list[Gate]:
    gates: list[Gate] = []
    arn = targets.replication_config_arn
    if arn is None:
        gates += [
            not_given(n, "--replication-config-arn")
            for n in ("dms:replication", "dms:cdc-latency", "dms:validation")
        ]
    else:
        replication_gate, replication = dms_replication_gate(clients["dms"], arn)
        gates += [
            replication_gate,
            dms_latency_gate(clients["cloudwatch"], replication, arn, options),
            dms_validation_gate(clients["dms"], arn),
        ]
    task = targets.datasync_task_arn
    if task is None:
        gates += [
            not_given(n, "--datasync-task-arn")
            for n in ("datasync:last-execution", "datasync:schedule-disabled")
        ]
    else:
        gates += [
            datasync_execution_gate(clients["datasync"], task),
            datasync_schedule_gate(clients["datasync"], task),
        ]
    secret = targets.admin_secret_id
    gates.append(
        not_given("secret:rotation-paused", "--admin-secret-id")
        if secret is None
        else rotation_gate(clients["secretsmanager"], secret)
    )
    return gates


def print_table(gates: list[Gate]) -> None:
    width = max(len(g.name) for g in gates)
    for gate in gates:
        print(f"{gate.name:<{width}}  {'PASS' if gate.ok else 'FAIL'}  {gate.why}")
    failed = [g.name for g in gates if not g.ok]
    print(
        "GO: every gate passes" if not failed else f"NO-GO: {len(failed)} gate(s) fail: {', '.join(failed)}"
    )
