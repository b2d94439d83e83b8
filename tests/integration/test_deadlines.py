"""Deadlines: with a dependency that accepts connections and never answers, the function itself
answers 503 with Retry-After, in less time than the invocation has (API Gateway gives up at 29 s)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from patronus.settings import Settings
from scripts.devstack.gateway import LambdaContext, cognito_claims, response_parts, rest_event
from tests.integration.conftest import DEFAULT_TEST_UNIT, Caller, make_caller


@pytest.fixture
def black_hole() -> Iterator[str]:
    """An endpoint that completes TCP handshakes (the listen backlog) and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_storage_that_never_answers_gives_503_before_the_invocation_ends(
    api: Caller, api_settings: Settings, black_hole: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pending document, and then a document storage that never answers
    dossier = api("POST", "/v1/dossiers", {"reference": "DEADLINE-1", "title": "t"}).json
    created = api(
        "POST", f"/v1/dossiers/{dossier['id']}/documents", {"filename": "a.pdf", "size_bytes": 5}
    ).json
    storage = api_settings.storage.model_copy(update={"endpoint_url": black_hole})
    make_caller(api_settings.model_copy(update={"storage": storage}), monkeypatch)
    from patronus_api import handler as api_handler

    # When the upload is confirmed (a HEAD to the storage) by an invocation with 6 s left
    event = rest_event(
        "POST",
        f"/v1/documents/{created['document']['id']}/complete",
        headers={"Content-Type": "application/json"},
        claims=cognito_claims("alice", ["editors", DEFAULT_TEST_UNIT]),
    )
    started = time.monotonic()
    status, pairs, body = response_parts(api_handler.handler(event, LambdaContext(timeout_seconds=6)))
    elapsed = time.monotonic() - started
    # Then the function answers 503 with Retry-After, before its time is up
    headers = {name.lower(): value for name, value in pairs}
    assert status == 503, body
    assert int(headers["retry-after"]) > 0
    assert elapsed < 5.5, elapsed
