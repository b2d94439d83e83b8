"""SnapStart in one process: prime, snapshot, restore, then serve on a fresh connection."""

from __future__ import annotations

from typing import Any

import pymysql
import pytest

from patronus import snapstart
from patronus.settings import Settings
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS
from tests.integration.conftest import make_caller


def test_a_restored_environment_serves_on_a_fresh_connection(
    api_settings: Settings, s3_server: ThrowawaySeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API function initialised as at publish time, with every connection recorded
    call = make_caller(api_settings, monkeypatch, s3_client=s3_server.client())
    from patronus_api.runtime import runtime

    opened: list[Any] = []
    connect = pymysql.connect

    def recording_connect(*args: Any, **kwargs: Any) -> Any:
        connection = connect(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(pymysql, "connect", recording_connect)
    created = call("POST", "/v1/dossiers", {"reference": "SNAP-1", "title": "Before the snapshot"})
    assert created.status == 201 and len(opened) == 1
    before = opened[0]
    # When the before-snapshot hooks prime it (no connection may be opened, the old one is dropped)
    snapstart.hooks.run_before_snapshot()
    assert len(opened) == 1 and not before.open
    # And the snapshot is restored in a new environment
    snapstart.hooks.run_after_restore()
    # Then the first request opens a fresh connection and succeeds
    got = call("GET", f"/v1/dossiers/{created.json['id']}", groups=("readers",))
    assert got.status == 200 and got.json["reference"] == "SNAP-1"
    assert len(opened) == 2 and opened[1].open and opened[1] is not before
    runtime.close()
