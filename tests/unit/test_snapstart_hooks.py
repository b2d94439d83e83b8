"""SnapStart hooks: the registry, and priming that never reaches the database."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from patronus import snapstart
from patronus.runtime import PrimingTouchedDatabase, Runtime
from patronus.settings import DatabaseSettings, Settings, StorageSettings

SETTINGS = Settings(
    database=DatabaseSettings.from_url("mysql://app@127.0.0.1:1/patronus"),
    storage=StorageSettings(bucket="documents", endpoint_url="http://127.0.0.1:1"),
)


def test_hooks_run_in_the_order_aws_documents() -> None:
    # Given hooks registered in the order a, b on both sides
    hooks, calls = snapstart.SnapshotHooks(), []
    for name in ("a", "b"):
        hooks.before_snapshot(lambda name=name: calls.append(f"before-{name}"))
        hooks.after_restore(lambda name=name: calls.append(f"after-{name}"))
    # When a snapshot is taken and restored
    hooks.run_before_snapshot()
    hooks.run_after_restore()
    # Then before-snapshot hooks ran in reverse order of registration, after-restore in order
    assert calls == ["before-b", "before-a", "after-a", "after-b"]


def test_the_registry_is_handed_to_the_lambda_runtime_module_when_present(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered: list[Any] = []
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = registered.append  # type: ignore[attr-defined]
    module.register_after_restore = registered.append  # type: ignore[attr-defined]
    hooks = snapstart.SnapshotHooks()
    # Without the module (locally), nothing is attached
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)
    assert snapstart.attach(hooks) is False
    # With it (in Lambda), the registry's two runners are
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    assert snapstart.attach(hooks) is True
    assert registered == [hooks.run_before_snapshot, hooks.run_after_restore]


def test_random_state_differs_after_a_restore() -> None:
    import random

    # Given two environments restored from one snapshot (the same random state)
    random.seed(42)
    state = random.getstate()
    first = random.random()
    random.setstate(state)
    # When the after-restore hooks run
    snapstart.reseed_random()
    # Then the next draw is not the one every sibling environment would make
    assert random.random() != first


def test_the_runtime_refuses_the_database_while_priming_and_forgets_it_after_a_restore() -> None:
    runtime = Runtime("test")
    runtime.configure(SETTINGS, s3_client=object())
    db = runtime.db
    with runtime.priming(), pytest.raises(PrimingTouchedDatabase):
        _ = runtime.dossiers
    runtime.after_restore()
    assert runtime.db is not db


@pytest.fixture
def api_runtime(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PATRONUS_DB_URL", "mysql://app@127.0.0.1:1/patronus")
    monkeypatch.setenv("PATRONUS_BUCKET", "documents")
    import patronus_api.handler  # noqa: F401  (loads the runtime and registers the hooks)
    from patronus_api.runtime import runtime

    runtime.configure(SETTINGS, s3_client=object())
    yield runtime
    runtime.close()


def test_priming_warms_every_route_without_connecting(
    api_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pymysql

    from patronus_api import priming

    # Given a database driver that records every connection attempt
    attempts: list[Any] = []
    monkeypatch.setattr(pymysql, "connect", lambda *a, **k: attempts.append(k))
    # When the API is primed as before a snapshot
    priming.prime()
    # Then every route with a parameter was exercised, and no connection was attempted
    paths = {request.path for request in priming.priming_requests()}
    assert {"/v1/dossiers/not-an-id", "/v1/documents/not-an-id/download"} <= paths
    assert attempts == []


def test_priming_fails_when_a_priming_request_needs_the_database(
    api_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patronus_api import priming

    # Given a priming request that would reach the database (the health check pings it)
    requests = priming.priming_requests()
    monkeypatch.setattr(
        priming, "priming_requests", lambda: [*requests, priming.PrimingRequest("GET", "/health", 200)]
    )
    # Then priming fails, so the version is never published with a connection in its snapshot
    with pytest.raises(priming.PrimingFailed, match="GET /health answered 500"):
        priming.prime()
