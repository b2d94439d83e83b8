"""Cold-start proxy: a fresh Python process imports a handler, initialises it and serves one
GET /v1/dossiers/{id} against MariaDB. The Patronus handler and the FastAPI + Mangum baseline
run interleaved in the same run, so that machine noise hits both alike.

With SnapStart a new execution environment does not import nor initialise: it is restored from
a snapshot taken after the before-snapshot hooks. Its share of the work that can be measured here
is the *restore path*: the after-restore hooks plus the first request on a fresh connection, in a
process primed by the before-snapshot hooks (Lambda's own restore of the snapshot comes on top
and can only be measured in AWS). It is compared with the baseline's whole cold start."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks.api.environment import CODE_PATHS, BenchDatabase, get_event
from benchmarks.api.stats import summary

CHILD = Path(__file__).with_name("coldstart_child.py")
HANDLERS = ("patronus", "fastapi", "patronus-restore")
RESTORE_GOAL = 0.15
# The third-party imports each handler cannot do without: the floor under its cold start.
# (pydantic imports lazily: BaseModel and Field are what both handlers' models need.)
FLOORS = {
    "patronus": "import aws_lambda_powertools.event_handler, aws_lambda_powertools.logging, "
    "aws_lambda_powertools.metrics, pymysql; from pydantic import BaseModel, Field",
    "fastapi": "import fastapi, mangum, pymysql; from pydantic import BaseModel, Field",
}


def child_environment(db_url: str) -> dict[str, str]:
    """What the Lambda configuration gives the function (tracing stays off outside Lambda)."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}}
    return {
        **keep,
        "PYTHONPATH": os.pathsep.join(str(p) for p in CODE_PATHS),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATRONUS_DB_URL": db_url,
        "PATRONUS_BUCKET": "patronus-bench",
        "PATRONUS_ENVIRONMENT": "bench",
        "AWS_REGION": "eu-west-3",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "POWERTOOLS_SERVICE_NAME": "patronus-api",
        "POWERTOOLS_METRICS_NAMESPACE": "Patronus",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def run_once(which: str, env: dict[str, str], event: dict[str, Any], folder: Path) -> dict[str, Any]:
    result_file = folder / f"{which}.json"
    result_file.unlink(missing_ok=True)
    spawned = time.time()
    completed = subprocess.run(
        [sys.executable, str(CHILD), which, str(result_file)],
        env={**env, "BENCH_EVENT": json.dumps(event), "BENCH_SPAWNED_AT": repr(spawned)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0 or not result_file.exists():
        raise RuntimeError(f"the {which} cold start failed:\n{completed.stderr.decode(errors='replace')}")
    result: dict[str, Any] = json.loads(result_file.read_text())
    if result["status"] != 200:
        raise RuntimeError(f"the {which} cold start answered {result['status']}: {result['body']}")
    return result


def measure(db: BenchDatabase, runs: int) -> dict[str, Any]:
    env = child_environment(db.url)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in HANDLERS}
    floors: dict[str, list[float]] = {name: [] for name in FLOORS}
    floor_order = tuple(FLOORS)
    xray: list[float] = []
    with tempfile.TemporaryDirectory(prefix="patronus-coldstart-") as folder:
        for name in HANDLERS:  # one unmeasured run each: page cache and bytecode cache warm
            run_once(name, env, get_event(db.dossier_ids[0]), Path(folder))
        for i in tqdm(range(runs), desc="cold starts", unit="round", leave=False):
            event = get_event(db.dossier_ids[i % len(db.dossier_ids)])
            order = HANDLERS if i % 2 == 0 else tuple(reversed(HANDLERS))
            for name in order:
                samples[name].append(run_once(name, env, event, Path(folder)))
            for name in floor_order if i % 2 == 0 else tuple(reversed(floor_order)):
                floors[name].append(_import_time(FLOORS[name], env))
            if i % 4 == 0:
                xray.append(_import_time("import aws_xray_sdk.core", env))
    figures: dict[str, Any] = {}
    for name, results in samples.items():
        figures[name] = {
            key: summary([r[key] for r in results])
            for key in ("spawn_to_response_ms", "in_process_ms", "import_ms", "first_request_ms")
        }
    figures["patronus-restore"]["restore_path_ms"] = summary(
        [r["restore_path_ms"] for r in samples["patronus-restore"]]
    )
    ours = figures["patronus"]["spawn_to_response_ms"]["p50"]
    theirs = figures["fastapi"]["spawn_to_response_ms"]["p50"]
    restore = figures["patronus-restore"]["restore_path_ms"]["p50"]
    return {
        "runs": runs,
        "handlers": figures,
        # Without SnapStart: the whole cold start against the baseline's (the former goal, 0.5).
        "ratio_p50": ours / theirs,
        "restore_ratio_p50": restore / theirs,
        "goal": f"SnapStart restore path p50 at most {RESTORE_GOAL} of the FastAPI + Mangum cold start p50",
        "goal_met": restore <= RESTORE_GOAL * theirs,
        "xray_sdk_import_ms": summary(xray),
        "framework_import_ms": {name: summary(values) for name, values in floors.items()},
        "framework_floor_ratio_p50": statistics.median(floors["patronus"])
        / statistics.median(floors["fastapi"]),
    }


def _import_time(statement: str, env: dict[str, str]) -> float:
    """Time to run an import ``statement`` in a fresh process, in milliseconds."""
    code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])
