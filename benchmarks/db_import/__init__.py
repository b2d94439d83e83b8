"""db_import against the plain ``mariadb`` client, side by side, on one generated dump.

``python -m benchmarks.db_import [--size-mb 200]`` writes a dump of at least ``--size-mb`` MiB in
mysqldump's format, starts a private MariaDB (or uses ``--server-url``), loads the dump once with
``mariadb < dump.sql`` and once with ``python -m scripts.db_import``, proves both databases equal
with ``python -m scripts.db_verify``, prints a table and writes
``benchmarks/results/db_import.json``. The figure that matters is the ratio of the two times
measured in the same run on the same server.

A top-level runner calls :func:`run` (it returns the result it writes).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from benchmarks.db_import.generate import write_dump

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results" / "db_import.json"
GOAL = 1.5


def _client_args(server_url: str, database: str) -> tuple[list[str], dict[str, str]]:
    parts = urlsplit(server_url)
    env = dict(os.environ)
    env.pop("MYSQL_PWD", None)
    if parts.password:
        env["MYSQL_PWD"] = unquote(parts.password)
    client = shutil.which("mariadb") or shutil.which("mysql") or "mariadb"
    return [
        client,
        "--protocol=TCP",
        f"--host={parts.hostname or '127.0.0.1'}",
        f"--port={parts.port or 3306}",
        f"--user={unquote(parts.username or 'root')}",
        f"--database={database}",
    ], env


def _url(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    netloc = parts.netloc.rsplit("@", 1)
    host = netloc[-1]
    user = unquote(parts.username or "root")
    return f"mysql://{user}@{host}/{database}"


def _sql(server_url: str, statement: str) -> None:
    args, env = _client_args(server_url, "mysql")
    subprocess.run([*args, "-e", statement], env=env, check=True, capture_output=True)


def _timed(command: list[str], env: dict[str, str], stdin: Path | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    with stdin.open("rb") if stdin else open(os.devnull, "rb") as source:
        result = subprocess.run(command, stdin=source, env=env, cwd=REPO, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        errors = result.stderr.decode(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(command[:3])} failed ({result.returncode}):\n{errors}")
    return elapsed, result.stdout.decode(errors="replace")


DEFAULT_WORKERS = max(
    2, os.cpu_count() or 2
)  # one loader per core of this machine (server and client share it)
DEFAULT_ROUNDS = 2


def _quiesce(server_url: str, timeout: float = 180.0) -> bool:
    """Let InnoDB flush the pages dirtied by earlier loads, so each timed load starts alike.

    Without it the later loads of a run pay for the flushing of the earlier ones (and the
    faster loader pays most, as it fills the redo log sooner). Needs SUPER; False if refused.
    """
    args, env = _client_args(server_url, "mysql")

    def query(statement: str) -> str | None:
        result = subprocess.run([*args, "-N", "-B", "-e", statement], env=env, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else None

    original = query("SELECT @@GLOBAL.innodb_max_dirty_pages_pct")
    if original is None or query("SET GLOBAL innodb_max_dirty_pages_pct = 0") is None:
        return False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            status = query("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'") or ""
            fields = status.split()
            if not fields or not fields[-1].isdigit() or int(fields[-1]) < 100:
                break
            time.sleep(1)
    finally:
        query(f"SET GLOBAL innodb_max_dirty_pages_pct = {original}")
    return True


def run(
    size_mb: float = 200.0,
    *,
    workers: int = DEFAULT_WORKERS,
    rounds: int = DEFAULT_ROUNDS,
    server_url: str | None = None,
    workdir: Path | None = None,
    keep: bool = False,
    results: Path | None = RESULTS,
    log: Any = print,
) -> dict[str, Any]:
    """Generate, load both ways, verify, report. Returns the result written to ``results``."""
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="bench-db-import-"))
    base.mkdir(parents=True, exist_ok=True)
    server = None
    try:
        dump = base / "legacy.sql"
        log(f"writing a {size_mb:g} MiB dump to {dump} ...")
        started = time.perf_counter()
        sizes = write_dump(dump, size_mb)
        generated = time.perf_counter() - started
        if server_url is None:
            from scripts.devstack.mariadb import ThrowawayMariaDB

            server = ThrowawayMariaDB(base / "mariadb").start()
            server_url = server.url
        log(f"server: {server_url}")
        env = dict(os.environ)
        env.pop("MYSQL_PWD", None)
        client_times: list[float] = []
        import_times: list[float] = []
        ratios: list[float] = []
        verify_report = base / "verify.json"
        verify_seconds, verify_out, quiesced = 0.0, "", False
        import_report: dict[str, Any] = {}
        for round_no in range(rounds):
            client_db, import_db = f"bench_client_{round_no}", f"bench_import_{round_no}"
            for name in (client_db, import_db):
                _sql(server_url, f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`")
            order = ("client", "db_import") if round_no % 2 == 0 else ("db_import", "client")
            for tool in order:
                quiesced = _quiesce(server_url)
                if tool == "client":
                    args, client_env = _client_args(server_url, client_db)
                    seconds, _ = _timed(args, client_env, stdin=dump)
                    client_times.append(seconds)
                else:
                    report = base / f"import-{round_no}.json"
                    command = [
                        sys.executable,
                        "-m",
                        "scripts.db_import",
                        str(dump),
                        "--url",
                        _url(server_url, import_db),
                        "--workers",
                        str(workers),
                        "--no-progress",
                        "--report",
                        str(report),
                    ]
                    seconds, _ = _timed(command, env)
                    import_times.append(seconds)
                    import_report = json.loads(report.read_text())
                log(f"round {round_no + 1}: {tool} {seconds:.1f} s")
            ratios.append(client_times[-1] / import_times[-1])
            if round_no == 0:  # prove the first pair equal, then free the server for the next round
                verify_seconds, verify_out = _timed(
                    [
                        sys.executable,
                        "-m",
                        "scripts.db_verify",
                        "--source-url",
                        _url(server_url, client_db),
                        "--target-url",
                        _url(server_url, import_db),
                        "--no-progress",
                        "--report",
                        str(verify_report),
                    ],
                    env,
                )
            if not keep:
                _sql(server_url, f"DROP DATABASE `{client_db}`; DROP DATABASE `{import_db}`")
        verdict = json.loads(verify_report.read_text())
        client_s = statistics.median(client_times)
        import_s = statistics.median(import_times)
        dump_bytes = dump.stat().st_size
        result: dict[str, Any] = {
            "benchmark": "db_import",
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "system": platform.platform(),
            },
            "server": "private MariaDB (scripts.devstack.mariadb)" if server else "given by --server-url",
            "dump": {
                "bytes": dump_bytes,
                "mib": round(dump_bytes / 2**20, 1),
                "tables": sizes,
                "generated_s": round(generated, 1),
            },
            "workers": workers,
            "rounds": rounds,
            "runs": {
                "mariadb_client_s": [round(t, 2) for t in client_times],
                "db_import_s": [round(t, 2) for t in import_times],
                "ratios": [round(r, 2) for r in ratios],
            },
            "mariadb_client_s": round(client_s, 2),
            "db_import_s": round(import_s, 2),
            "ratio": round(statistics.median(ratios), 2),
            "ratio_note": "median of the per-round ratios; each round times both loads back to back on "
            "the same server, alternating which goes first, each starting after InnoDB flushed the "
            "pages dirtied by the loads before it",
            "quiesced_between_loads": quiesced,
            "goal_ratio": GOAL,
            "goal_met": statistics.median(ratios) >= GOAL,
            "db_import": {
                "batches": import_report.get("result", {}).get("batches"),
                "load_data": import_report.get("result", {}).get("load_data"),
                "rewrites": import_report.get("plan", {}).get("rewrites"),
            },
            "verify": {
                "equal": verdict.get("equal"),
                "seconds": round(verify_seconds, 2),
                "rows": sum((t.get("rows_source") or 0) for t in verdict.get("tables", {}).values()),
            },
        }
        if results is not None:
            results.parent.mkdir(parents=True, exist_ok=True)
            results.write_text(json.dumps(result, indent=2) + "\n")
        log(table(result))
        if verify_out and not verdict.get("equal"):
            log(verify_out)
        return result
    finally:
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


def table(result: dict[str, Any]) -> str:
    mib = result["dump"]["mib"]
    rows = [
        ("mariadb < dump.sql", result["mariadb_client_s"]),
        (f"db_import --workers {result['workers']}", result["db_import_s"]),
    ]
    lines = [f"{'tool':<28}{'seconds':>10}{'MiB/s':>10}", "-" * 48]
    for name, seconds in rows:
        lines.append(f"{name:<28}{seconds:>10.1f}{mib / seconds:>10.1f}")
    lines.append("-" * 48)
    verdict = "equal" if result["verify"]["equal"] else "DIFFERENT"
    goal = "met" if result["goal_met"] else "NOT met"
    lines.append(
        f"ratio {result['ratio']:.2f}x (goal {result['goal_ratio']}x: {goal}); "
        f"db_verify: {verdict} ({result['verify']['rows']} rows, {result['verify']['seconds']:.1f} s)"
    )
    return "\n".join(lines)
