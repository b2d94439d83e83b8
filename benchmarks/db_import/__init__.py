"""db_import against the plain ``mariadb`` client, side by side, on one generated dump.

``python -m benchmarks.db_import [--size-mb 200]`` writes a dump of at least ``--size-mb`` MiB in
mysqldump's format, starts a private MariaDB (or uses ``--server-url``), loads the dump once with
``mariadb < dump.sql`` and once with db_import's engine (the ``Importer`` that ``python -m
scripts.db_import`` runs), proves both databases equal with db_verify's engine, prints a table
and writes ``benchmarks/results/db_import.json``. The figure that matters is the ratio of the two
times measured in the same run on the same server.

A top-level runner calls :func:`run` (it returns the result it writes).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from benchmarks.db_import.generate import write_dump
from scripts.operator_tools.database.connection import ConnectionSpec
from scripts.operator_tools.database.importer import Importer, ImportOptions
from scripts.operator_tools.database.verifier import VerifyOptions, VerifyResult, verify

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


def _spec(server_url: str, database: str) -> ConnectionSpec:
    """The engines' view of ``database`` on the server of ``server_url``."""
    parts = urlsplit(server_url)
    return ConnectionSpec(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password) if parts.password else None,
        database=database,
    )


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
DEFAULT_ROUNDS = 5  # pairs: the median of five pairwise ratios resists one run slowed by the machine


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


@dataclass
class Measurements:
    """What the rounds measured, in the order they ran."""

    client_s: list[float] = field(default_factory=list)
    import_s: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    load: list[dict[str, float]] = field(default_factory=list)  # 1-minute load average around each pair
    quiesced: bool = False
    importer: Importer | None = None
    verified: VerifyResult | None = None
    verify_s: float = 0.0


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
        measured = Measurements()
        for round_no in range(rounds):
            _round(server_url, dump, workers, round_no, measured, keep=keep, log=log)
        result = _result(dump, sizes, generated, workers, rounds, measured, private_server=server is not None)
        if results is not None:
            results.parent.mkdir(parents=True, exist_ok=True)
            results.write_text(json.dumps(result, indent=2) + "\n")
        log(table(result))
        if measured.verified is not None and not measured.verified.equal:
            log("\n".join(f"  - {d.object}: {d.detail}" for d in measured.verified.differences))
        return result
    finally:
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


def _round(
    server_url: str, dump: Path, workers: int, round_no: int, measured: Measurements, *, keep: bool, log: Any
) -> None:
    """Both loads into fresh databases, alternating which goes first; the first pair is verified."""
    client_db, import_db = f"bench_client_{round_no}", f"bench_import_{round_no}"
    for name in (client_db, import_db):
        _sql(server_url, f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`")
    order = ("client", "db_import") if round_no % 2 == 0 else ("db_import", "client")
    load_before = os.getloadavg()[0]
    for tool in order:
        measured.quiesced = _quiesce(server_url)
        if tool == "client":
            args, client_env = _client_args(server_url, client_db)
            seconds, _ = _timed(args, client_env, stdin=dump)
            measured.client_s.append(seconds)
        else:
            seconds, measured.importer = _import(dump, _spec(server_url, import_db), workers)
            measured.import_s.append(seconds)
        log(f"round {round_no + 1}: {tool} {seconds:.1f} s")
    measured.ratios.append(measured.client_s[-1] / measured.import_s[-1])
    measured.load.append({"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)})
    if round_no == 0:  # prove the first pair equal, then free the server for the next round
        started = time.perf_counter()
        measured.verified = verify(
            _spec(server_url, client_db), _spec(server_url, import_db), VerifyOptions(progress=False)
        )
        measured.verify_s = time.perf_counter() - started
    if not keep:
        _sql(server_url, f"DROP DATABASE `{client_db}`; DROP DATABASE `{import_db}`")


def _import(dump: Path, target: ConnectionSpec, workers: int) -> tuple[float, Importer]:
    """db_import's engine with the command's defaults; (seconds, the finished importer)."""
    started = time.perf_counter()
    importer = Importer(dump, target, ImportOptions(workers=workers, progress=False))
    importer.run()
    return time.perf_counter() - started, importer


def _result(
    dump: Path,
    sizes: dict[str, int],
    generated: float,
    workers: int,
    rounds: int,
    measured: Measurements,
    *,
    private_server: bool,
) -> dict[str, Any]:
    ratio = statistics.median(measured.ratios)
    dump_bytes = dump.stat().st_size
    importer, verified = measured.importer, measured.verified
    return {
        "benchmark": "db_import",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "server": "private MariaDB (scripts.devstack.mariadb)" if private_server else "given by --server-url",
        "dump": {
            "bytes": dump_bytes,
            "mib": round(dump_bytes / 2**20, 1),
            "tables": sizes,
            "generated_s": round(generated, 1),
        },
        "workers": workers,
        "rounds": rounds,
        "runs": {
            "mariadb_client_s": [round(t, 2) for t in measured.client_s],
            "db_import_s": [round(t, 2) for t in measured.import_s],
            "ratios": [round(r, 2) for r in measured.ratios],
            "first": ["client" if n % 2 == 0 else "db_import" for n in range(rounds)],
            "load_average_1m": measured.load,
        },
        "mariadb_client_s": round(statistics.median(measured.client_s), 2),
        "db_import_s": round(statistics.median(measured.import_s), 2),
        "ratio": round(ratio, 2),
        "ratio_note": "median of the pairwise ratios (client seconds / db_import seconds); each pair "
        "times both loads back to back into fresh databases of the same server, alternating which "
        "goes first, each starting after InnoDB flushed the pages dirtied by the loads before it",
        "ratio_range": [round(min(measured.ratios), 2), round(max(measured.ratios), 2)],
        "machine_load_1m": {
            "cpus": os.cpu_count(),
            "min": min(x["before"] for x in measured.load),
            "max": max(max(x["before"], x["after"]) for x in measured.load),
        },
        "quiesced_between_loads": measured.quiesced,
        "goal_ratio": GOAL,
        "goal_met": ratio >= GOAL,
        "db_import": {
            "batches": dict(importer.result.batches) if importer else None,
            "load_data": importer.result.load_data if importer else None,
            "rewrites": dict(sorted(importer.plan.rewrites.items())) if importer else None,
        },
        "verify": {
            "equal": verified.equal if verified else None,
            "seconds": round(measured.verify_s, 2),
            "rows": sum(t.rows_source or 0 for t in verified.tables.values()) if verified else 0,
        },
    }


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
    runs = result["runs"]
    for number, ratio in enumerate(runs["ratios"]):
        load = runs["load_average_1m"][number]
        lines.append(
            f"pair {number + 1} ({runs['first'][number]} first): "
            f"client {runs['mariadb_client_s'][number]:.1f} s, "
            f"db_import {runs['db_import_s'][number]:.1f} s, ratio {ratio:.2f}x, "
            f"load {load['before']:.1f} -> {load['after']:.1f}"
        )
    lines.append(
        f"ratio {result['ratio']:.2f}x, median of {len(runs['ratios'])} pairs "
        f"(range {result['ratio_range'][0]:.2f}-{result['ratio_range'][1]:.2f}; "
        f"goal {result['goal_ratio']}x: {goal}); "
        f"db_verify: {verdict} ({result['verify']['rows']} rows, {result['verify']['seconds']:.1f} s)"
    )
    return "\n".join(lines)
