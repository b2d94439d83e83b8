"""Harness for the API handler: real MariaDB, real SeaweedFS, API Gateway REST events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from patronus.settings import DatabaseSettings, Settings, StorageSettings
from scripts.devstack.gateway import LambdaContext, cognito_claims, response_parts, rest_event
from scripts.devstack.seaweedfs import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, ThrowawaySeaweedFS


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Caller = Callable[..., Reply]
# The unit every caller of the harness is in unless the test names its units (``units=()``: none).
DEFAULT_TEST_UNIT = "unit-test"


def settings_for(database_url: str, server: ThrowawaySeaweedFS, bucket: str, **storage: Any) -> Settings:
    return Settings(
        environment="test",
        database=DatabaseSettings.from_url(database_url),
        storage=StorageSettings(bucket=bucket, endpoint_url=server.endpoint, **storage),
    )


@pytest.fixture
def api_settings(database_url: str, s3_server: ThrowawaySeaweedFS, s3_bucket: str) -> Settings:
    return settings_for(
        database_url,
        s3_server,
        s3_bucket,
        multipart_threshold=8 * 1024 * 1024,
        multipart_part_size=5 * 1024 * 1024,
    )


def make_caller(settings: Settings, monkeypatch: pytest.MonkeyPatch, *, s3_client: Any = None) -> Caller:
    """Configure the API runtime with ``settings`` and return a caller of the real handler.
    Without ``s3_client`` the runtime makes its own, as in Lambda. The caller's token carries
    ``groups`` (roles) and ``units`` (unit groups, by default the one unit every test shares)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_SECRET_KEY)
    monkeypatch.setenv("PATRONUS_DB_URL", "mysql://unused@127.0.0.1:1/unused")
    monkeypatch.setenv("PATRONUS_BUCKET", settings.storage.bucket)
    from patronus_api import handler as api_handler
    from patronus_api.runtime import runtime

    runtime.configure(settings, s3_client=s3_client)

    def call(
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = "alice",
        groups: tuple[str, ...] = ("editors",),
        units: tuple[str, ...] = (DEFAULT_TEST_UNIT,),
        headers: dict[str, str] | None = None,
        query: dict[str, str | list[str]] | None = None,
        raw_body: str | None = None,
        claims: dict[str, str] | None = None,
    ) -> Reply:
        payload = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        event = rest_event(
            method,
            path,
            query={k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()},
            headers={"Content-Type": "application/json", **(headers or {})},
            body=payload,
            claims={**cognito_claims(user, (*groups, *units)), **(claims or {})} if user else None,
        )
        status, pairs, data = response_parts(api_handler.handler(event, LambdaContext()))
        return Reply(status, {k.lower(): v for k, v in pairs}, data)

    return call


@pytest.fixture
def api(
    api_settings: Settings, s3_server: ThrowawaySeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Caller]:
    """Call the real API handler with an API Gateway event; returns a :class:`Reply`."""
    from patronus_api.runtime import runtime

    yield make_caller(api_settings, monkeypatch, s3_client=s3_server.client())
    runtime.db.close()
