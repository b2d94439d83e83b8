"""Measure the Patronus API: cold-start proxy, warm latency and package size.

Every timing is taken side by side with a baseline in the same run (a FastAPI + Mangum
function with the same two routes for the cold start; raw pymysql round trips of the same
queries for the warm latency) and reported as a ratio or a difference, so the figures compare
across machines. Prints a table, writes benchmarks/results/api.json and exits with 1 when a
goal is missed. The benchmarks only read: they start a throwaway MariaDB (or use --db-url's
server) and drop the database they create.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymysql

from benchmarks.api import coldstart, package, warm
from benchmarks.api.environment import ROOT, bench_database

RESULTS = ROOT / "benchmarks" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.api",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=20, help="cold starts per handler (default 20)")
    parser.add_argument("--requests", type=int, default=2000, help="warm requests per route (default 2000)")
    parser.add_argument("--quick", action="store_true", help="fewer runs (10 cold starts, 300 requests)")
    parser.add_argument(
        "--db-url",
        help="a MySQL-compatible server URL (mysql://user@host:port/); default: a throwaway MariaDB",
    )
    parser.add_argument(
        "--only",
        choices=("coldstart", "warm", "package"),
        action="append",
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "api.json", help="the JSON report")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.requests = min(args.runs, 10), min(args.requests, 300)
    if args.runs < 1 or args.requests < 1:
        parser.error("--runs and --requests must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wanted = set(args.only or ("coldstart", "warm", "package"))
    report: dict[str, Any] = {"benchmark": "api", "started_at": datetime.now(UTC).isoformat()}
    try:
        if wanted & {"coldstart", "warm"}:
            with bench_database(args.db_url) as db:
                if "coldstart" in wanted:
                    report["coldstart"] = coldstart.measure(db, args.runs)
                if "warm" in wanted:
                    report["warm"] = warm.measure(db, args.requests)
        if "package" in wanted:
            report["package"] = package.measure()
    except (RuntimeError, OSError, ValueError, pymysql.err.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    goals = {name: section["goal_met"] for name, section in report.items() if isinstance(section, dict)}
    report["goals_met"] = all(goals.values())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    print(f"\nJSON report: {args.output}")
    return 0 if report["goals_met"] else 1


def _ms(value: float) -> str:
    return f"{value:8.2f} ms"


def render(report: dict[str, Any]) -> str:
    lines: list[str] = []
    if "coldstart" in report:
        cold = report["coldstart"]
        lines += [
            f"Cold start proxy (fresh process: import + init + GET /v1/dossiers/{{id}}; {cold['runs']} runs)",
            f"  {'handler':<22}{'spawn->response p50':>22}{'p99':>12}"
            f"{'in-process p50':>18}{'import p50':>14}",
        ]
        for name, label in (
            ("patronus", "Patronus"),
            ("fastapi", "FastAPI + Mangum"),
            ("patronus-restore", "Patronus, primed"),
        ):
            h = cold["handlers"][name]
            lines.append(
                f"  {label:<22}{_ms(h['spawn_to_response_ms']['p50']):>22}"
                f"{_ms(h['spawn_to_response_ms']['p99']):>12}{_ms(h['in_process_ms']['p50']):>18}"
                f"{_ms(h['import_ms']['p50']):>14}"
            )
        restore = cold["handlers"]["patronus-restore"]["restore_path_ms"]
        lines.append(
            f"  ratio Patronus/baseline without SnapStart (p50): {cold['ratio_p50']:.2f} (former goal 0.50)"
        )
        lines.append(
            f"  SnapStart restore path (after-restore hooks + first request on a fresh connection): "
            f"p50 {restore['p50']:.2f} ms, p99 {restore['p99']:.2f} ms"
        )
        lines.append(
            f"  ratio restore path/baseline cold start (p50): {cold['restore_ratio_p50']:.3f}  "
            f"goal <= {coldstart.RESTORE_GOAL}: {'met' if cold['goal_met'] else 'MISSED'}"
        )
        floor = cold["framework_import_ms"]
        lines.append(
            f"  framework imports alone (p50): Powertools + pydantic + PyMySQL "
            f"{floor['patronus']['p50']:.1f} ms, FastAPI + Mangum + pydantic + PyMySQL "
            f"{floor['fastapi']['p50']:.1f} ms (ratio {cold['framework_floor_ratio_p50']:.2f})"
        )
        lines.append(
            f"  X-Ray SDK import when active tracing is on: {cold['xray_sdk_import_ms']['p50']:.1f} ms p50"
        )
    if "warm" in report:
        warm_report = report["warm"]
        lines += ["", f"Warm latency (in-process, {warm_report['requests']} requests per route)"]
        lines.append(f"  {'route':<32}{'p50':>12}{'p99':>12}")
        for route, label in (("get", "GET /v1/dossiers/{id}"), ("list", "GET /v1/dossiers?limit=20")):
            for kind, who in (("handler", "Patronus"), ("raw", "raw SQL"), ("baseline", "FastAPI")):
                figure = warm_report["latency_ms"][f"{kind}_{route}"]
                lines.append(f"  {label + ' ' + who:<32}{_ms(figure['p50']):>12}{_ms(figure['p99']):>12}")
            lines.append(
                f"  {'  added by the handler (p50)':<32}{_ms(warm_report['handler_added_p50_ms'][route]):>12}"
            )
        lines.append(f"  goal <= 1 ms added at p50: {'met' if warm_report['goal_met'] else 'MISSED'}")
    if "package" in report:
        pkg = report["package"]
        lines += ["", "Package size (Powertools layer excluded)"]
        lines.append(f"  {'part':<32}{'files':>8}{'unzipped':>14}{'zipped':>14}")
        for name, label in (("function", "API function code"), ("layer", "project layer + PyMySQL")):
            part = pkg[name]
            lines.append(
                f"  {label:<32}{part['files']:>8}{part['unzipped_bytes'] / 1e6:>11.3f} MB"
                f"{part['zipped_bytes'] / 1e6:>11.3f} MB"
            )
        lines.append(
            f"  {'total':<32}{'':>8}{pkg['total_unzipped_bytes'] / 1e6:>11.3f} MB"
            f"{pkg['total_zipped_bytes'] / 1e6:>11.3f} MB   goal < 5 MB unzipped: "
            f"{'met' if pkg['goal_met'] else 'MISSED'}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
