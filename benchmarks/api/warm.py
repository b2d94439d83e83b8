"""Warm latency: in-process invocations of the real handler against MariaDB, next to the raw
SQL round trips of the same queries (pymysql, same connection settings) and the FastAPI +
Mangum baseline, interleaved in one loop so that they share the machine's noise."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pymysql
import pymysql.cursors
from tqdm import tqdm

from benchmarks.api.environment import CODE_PATHS, BenchDatabase, get_event, list_event
from benchmarks.api.stats import summary
from scripts.devstack.gateway import LambdaContext

GOAL_MS = 1.0
_COLUMNS = "id, public_id, reference, title, description, status, owner, version, created_at, updated_at"


def _handlers(db_url: str) -> tuple[Callable[..., dict[str, Any]], Callable[..., dict[str, Any]]]:
    for path in CODE_PATHS:
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    os.environ.update(
        {
            "PATRONUS_DB_URL": db_url,
            "PATRONUS_BUCKET": "patronus-bench",
            "POWERTOOLS_SERVICE_NAME": "patronus-api",
            "POWERTOOLS_METRICS_NAMESPACE": "Patronus",
        }
    )
    from benchmarks.baselines.fastapi_app import handler as baseline
    from patronus_api.handler import handler
    from patronus_api.runtime import runtime

    runtime.load(os.environ)
    return handler, baseline


def _raw_connection(db_url: str) -> Any:
    """A pymysql connection with the settings ``patronus.db.Database`` uses."""
    from patronus.settings import DatabaseSettings

    settings = DatabaseSettings.from_url(db_url)
    return pymysql.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password or "",
        database=settings.name,
        charset="utf8mb4",
        autocommit=True,
        cursorclass=pymysql.cursors.DictCursor,
        connect_timeout=settings.connect_timeout,
        read_timeout=30,
        write_timeout=30,
        ssl_disabled=True,
    )


def _raw_read(connection: Any, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """The service's unit of work, without the service: begin read-only, query, commit."""
    with connection.cursor() as cursor:
        cursor.execute("START TRANSACTION READ ONLY")
        cursor.execute(sql, params)
        rows = list(cursor.fetchall())
    connection.commit()
    return rows


def _timed(call: Callable[[], Any], into: list[float]) -> Any:
    start = time.perf_counter()
    result = call()
    into.append((time.perf_counter() - start) * 1000)
    return result


def measure(db: BenchDatabase, requests: int) -> dict[str, Any]:
    handler, baseline = _handlers(db.url)
    connection = _raw_connection(db.url)
    context = LambdaContext(function_name="bench")
    names = ("handler_get", "raw_get", "baseline_get", "handler_list", "raw_list", "baseline_list")
    samples: dict[str, list[float]] = {name: [] for name in names}
    get_sql = f"SELECT {_COLUMNS} FROM dossiers WHERE public_id = %s"
    list_sql = f"SELECT {_COLUMNS} FROM dossiers ORDER BY id DESC LIMIT %s"
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink):  # metrics are printed as EMF lines, as in Lambda
            for i in tqdm(range(requests + 50), desc="warm requests", unit="round", leave=False):
                dossier_id = db.dossier_ids[i % len(db.dossier_ids)]
                get, listing = get_event(dossier_id), list_event(20)
                measured = i >= 50  # the first rounds only warm connections and caches
                rounds: dict[str, Callable[[], Any]] = {
                    "handler_get": partial(_invoke, handler, get, context),
                    "raw_get": partial(_raw_read, connection, get_sql, (dossier_id,)),
                    "baseline_get": partial(_invoke, baseline, get, context),
                    "handler_list": partial(_invoke, handler, listing, context),
                    "raw_list": partial(_raw_read, connection, list_sql, (21,)),
                    "baseline_list": partial(_invoke, baseline, listing, context),
                }
                for name in names:
                    _timed(rounds[name], samples[name] if measured else [])
                sink.seek(0)
                sink.truncate()
    finally:
        connection.close()
    figures = {name: summary(values) for name, values in samples.items()}
    added = {
        route: figures[f"handler_{route}"]["p50"] - figures[f"raw_{route}"]["p50"]
        for route in ("get", "list")
    }
    return {
        "requests": requests,
        "latency_ms": figures,
        "handler_added_p50_ms": added,
        "goal": f"the handler adds at most {GOAL_MS} ms at p50 over raw SQL",
        "goal_met": all(value <= GOAL_MS for value in added.values()),
    }


def _invoke(handler: Callable[..., dict[str, Any]], event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = handler(event, context)
    if response.get("statusCode") != 200:
        raise RuntimeError(f"the handler answered {response.get('statusCode')}: {response.get('body')}")
    return response
