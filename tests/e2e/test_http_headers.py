"""The request and response headers of the API over real HTTP, through the local gateway: header
names in any case, idempotency keys compared byte for byte, the conditional and idempotent
headers declared in the served OpenAPI document, and no caching or sniffing of any answer."""

from __future__ import annotations

from typing import Any

import requests

from tests.conftest import LocalStack


def create(stack: LocalStack, reference: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        f"{stack.url}/v1/dossiers",
        json={"reference": reference, "title": "Headers"},
        headers={**stack.auth(), **headers},
        timeout=10,
    )


def test_idempotency_keys_compare_byte_for_byte_whatever_the_header_name_case(
    local_stack: LocalStack,
) -> None:
    # Given a dossier created with the key "HTTP-KEY-x", the header's name in lower case
    first = create(local_stack, "HDR-IDEM-A", {"idempotency-key": "HTTP-KEY-x"})
    assert first.status_code == 201, first.text
    # When the same key is sent again under another spelling of the header's name
    replay = create(local_stack, "HDR-IDEM-A", {"IDEMPOTENCY-KEY": "HTTP-KEY-x"})
    # Then it is a replay of the first answer
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true", replay.text
    assert replay.json()["id"] == first.json()["id"]
    # And a key that differs only in case is another key: another dossier, not a replay
    other = create(local_stack, "HDR-IDEM-B", {"Idempotency-Key": "http-key-x"})
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers, other.text
    assert other.json()["id"] != first.json()["id"]


def test_if_match_is_read_whatever_the_header_name_case(local_stack: LocalStack) -> None:
    created = create(local_stack, "HDR-IF-MATCH", {})
    assert created.status_code == 201, created.text
    path = f"{local_stack.url}/v1/dossiers/{created.json()['id']}"
    stale = requests.patch(
        path, json={"title": "stale"}, headers={**local_stack.auth(), "if-match": '"7"'}, timeout=10
    )
    assert stale.status_code == 412, stale.text
    fresh = requests.patch(
        path,
        json={"title": "fresh"},
        headers={**local_stack.auth(), "IF-MATCH": created.headers["ETag"]},
        timeout=10,
    )
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"2"', fresh.text


def test_no_answer_of_the_api_may_be_cached_or_sniffed(local_stack: LocalStack) -> None:
    s = local_stack
    created = create(s, "HDR-CACHE", {})
    assert created.status_code == 201, created.text
    dossier = f"{s.url}/v1/dossiers/{created.json()['id']}"
    answers: dict[str, requests.Response] = {
        "201": created,
        "200": requests.get(f"{s.url}/v1/dossiers", headers=s.auth(), timeout=10),
        "404": requests.get(f"{s.url}/v1/dossiers/{'0' * 32}", headers=s.auth(), timeout=10),
        "400": requests.get(f"{s.url}/v1/dossiers", params={"limit": "x"}, headers=s.auth(), timeout=10),
        "415": requests.post(
            f"{s.url}/v1/dossiers",
            data=b'{"reference": "HDR-415", "title": "t"}',
            headers={**s.auth(), "Content-Type": "text/plain"},
            timeout=10,
        ),
        "428": requests.patch(dossier, json={"title": "t"}, headers=s.auth(), timeout=10),
        "412": requests.patch(
            dossier, json={"title": "t"}, headers={**s.auth(), "If-Match": '"9"'}, timeout=10
        ),
        "health": requests.get(f"{s.url}/health", timeout=10),
    }
    seen: dict[str, Any] = {
        name: (
            reply.status_code,
            reply.headers.get("Cache-Control"),
            reply.headers.get("X-Content-Type-Options"),
        )
        for name, reply in answers.items()
    }
    expected = {name: (int(name) if name.isdigit() else 200, "no-store", "nosniff") for name in answers}
    assert seen == expected


def test_the_served_document_declares_the_conditional_and_idempotent_headers(local_stack: LocalStack) -> None:
    spec = requests.get(f"{local_stack.url}/openapi.json", timeout=10).json()

    def header_parameters(method: str, path: str) -> dict[str, bool]:
        operation = spec["paths"][path][method]
        return {
            p["name"].lower(): bool(p.get("required"))
            for p in operation.get("parameters", [])
            if p["in"] == "header"
        }

    assert "if-match" in header_parameters("patch", "/v1/dossiers/{dossier_id}")
    assert header_parameters("post", "/v1/dossiers").get("idempotency-key") is False
    # And the answers a missing or stale If-Match gets are documented
    assert {"412", "428"} <= set(spec["paths"]["/v1/dossiers/{dossier_id}"]["patch"]["responses"])
