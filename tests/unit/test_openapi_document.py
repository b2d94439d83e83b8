"""The OpenAPI document says what the API does, so that every operation can be tried from /docs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.devstack.paths import add_code_paths


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    add_code_paths()
    from patronus_api.app import _openapi_json

    return dict(json.loads(_openapi_json()))


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in document["paths"].items() for m, op in ops.items()]


def test_no_operation_documents_the_422_that_never_happens(document: dict[str, Any]) -> None:
    assert not [(m, p) for m, p, op in _operations(document) if "422" in op["responses"]]
    assert "HTTPValidationError" not in json.dumps(document)


def test_the_health_check_needs_no_token(document: dict[str, Any]) -> None:
    assert document["paths"]["/health"]["get"]["security"] == []
    assert document["security"] == [{"bearer": []}]


def test_conditional_and_idempotent_requests_declare_their_headers(document: dict[str, Any]) -> None:
    def headers(method: str, path: str) -> set[str]:
        operation = document["paths"][path][method]
        return {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}

    assert "if-match" in headers("patch", "/v1/dossiers/{dossier_id}")
    assert "idempotency-key" in headers("post", "/v1/dossiers")


def test_operations_with_a_body_document_415(document: dict[str, Any]) -> None:
    with_body = [(m, p, op) for m, p, op in _operations(document) if "requestBody" in op]
    assert with_body
    assert not [(m, p) for m, p, op in with_body if "415" not in op["responses"]]
