"""Every route with every role: readers read; editors also write; admins also archive and delete;
no token is a 401; a token without a known group reads nothing. Each cell gets its own fresh
dossier and available document, and a refused call must leave the database unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from scripts.devstack.database import connect
from tests.conftest import LocalStack as Stack
from tests.integration.conftest import Caller

NO_TOKEN = "no token"
ROLES: dict[str, tuple[str, ...]] = {
    NO_TOKEN: (),
    "no known group": ("guests",),
    "readers": ("readers",),
    "editors": ("editors",),
    "admins": ("admins",),
}
READ, WRITE, ADMIN = "read", "write", "admin"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {dossier} and {document} are filled with fresh resources
    needs: str  # the least role: read, write or admin
    success: int
    body: Callable[[int], dict[str, Any] | None] = lambda n: None


ROUTES = [
    Route("GET", "/v1/dossiers", READ, 200),
    Route("POST", "/v1/dossiers", WRITE, 201, lambda n: {"reference": f"AUTHZ-NEW-{n}", "title": "New"}),
    Route("GET", "/v1/dossiers/{dossier}", READ, 200),
    Route("PATCH", "/v1/dossiers/{dossier}", WRITE, 200, lambda n: {"title": f"Renamed {n}"}),
    Route("DELETE", "/v1/dossiers/{dossier}", ADMIN, 200),
    Route("GET", "/v1/dossiers/{dossier}/history", READ, 200),
    Route("GET", "/v1/dossiers/{dossier}/documents", READ, 200),
    Route(
        "POST",
        "/v1/dossiers/{dossier}/documents",
        WRITE,
        201,
        lambda n: {"filename": "n.pdf", "size_bytes": 1},
    ),
    Route("GET", "/v1/documents/{document}", READ, 200),
    Route("POST", "/v1/documents/{document}/complete", WRITE, 200),
    Route("GET", "/v1/documents/{document}/download", READ, 200),
    Route("DELETE", "/v1/documents/{document}", ADMIN, 204),
]


def expected_status(route: Route, role: str) -> int:
    if role == NO_TOKEN:
        return 401
    rank = {"no known group": 0, "readers": 1, "editors": 2, "admins": 3}[role]
    return route.success if rank >= {READ: 1, WRITE: 2, ADMIN: 3}[route.needs] else 403


def fresh_resources(api: Caller, n: int) -> dict[str, str]:
    """A dossier and an available document in it, made by an admin."""
    admin = ("admins",)
    dossier = api("POST", "/v1/dossiers", {"reference": f"AUTHZ-{n}", "title": "Authz"}, groups=admin).json
    data = b"%PDF-1.7 authz"
    created = api(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": len(data)},
        groups=admin,
    ).json
    upload = created["upload"]
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("a.pdf", data, "application/pdf")}, timeout=30
    )
    assert posted.status_code in (200, 204)
    document = api("POST", f"/v1/documents/{created['document']['id']}/complete", groups=admin).json
    assert document["status"] == "available"
    return {"dossier": dossier["id"], "document": document["id"]}


def snapshot(database_url: str) -> list[tuple[Any, ...]]:
    connection = connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT public_id, title, status, version FROM dossiers ORDER BY id")
            dossiers = [tuple(row.values()) for row in cursor.fetchall()]
            cursor.execute("SELECT public_id, status FROM documents ORDER BY id")
            documents = [tuple(row.values()) for row in cursor.fetchall()]
            cursor.execute("SELECT COUNT(*) AS n FROM audit_events")
            return [*dossiers, *documents, (cursor.fetchone()["n"],)]
    finally:
        connection.close()


def test_every_route_with_every_role(api: Caller, database_url: str) -> None:
    # Given every route and every role, each cell with fresh resources
    mismatches: list[str] = []
    table: list[str] = []
    for n, route in enumerate(ROUTES):
        row = []
        for m, (role, groups) in enumerate(ROLES.items()):
            ids = fresh_resources(api, n * 10 + m)
            path = route.path.format(**ids)
            before = snapshot(database_url)
            # When the route is called with the role
            reply = api(
                route.method,
                path,
                route.body(n * 10 + m),
                user=None if role == NO_TOKEN else f"user-{role.replace(' ', '-')}",
                groups=groups,
                headers={"If-Match": '"1"'},
            )
            # Then the status is the expected one, and a refusal changed nothing
            expected = expected_status(route, role)
            row.append(f"{reply.status}")
            if reply.status != expected:
                mismatches.append(
                    f"{route.method} {route.path} as {role}: {reply.status}, expected {expected}"
                )
            elif expected in (401, 403):
                assert reply.json["error"]["code"] in {"unauthorized", "forbidden"}
                if snapshot(database_url) != before:
                    mismatches.append(f"{route.method} {route.path} as {role}: refused but changed data")
        table.append(f"{route.method:6} {route.path:38} " + " ".join(f"{s:>5}" for s in row))
    assert not mismatches, "\n".join([*mismatches, "", "status table (" + ", ".join(ROLES) + "):", *table])


def test_the_matrix_covers_every_documented_route() -> None:
    # Given the OpenAPI document of the API; Then every operation but /health is in the matrix
    from patronus_api.app import _openapi_json

    documented = {
        (method.upper(), path)
        for path, operations in json.loads(_openapi_json())["paths"].items()
        for method in operations
        if path != "/health"
    }
    tested = {
        (route.method, route.path.replace("{dossier}", "{dossier_id}").replace("{document}", "{document_id}"))
        for route in ROUTES
    }
    assert tested == documented


def test_the_gateway_refuses_every_route_without_a_valid_token(stack: Stack) -> None:
    # Given the local stack's gateway; When each route is called without a token, or with a
    # token signed with another secret; Then 401 before the function is reached
    from scripts.devstack.tokens import issue

    forged = issue(b"another secret, not the stack's", "mallory", ["admins"])
    some_id = "0" * 32
    for route in ROUTES:
        path = route.path.format(dossier=some_id, document=some_id)
        for headers in ({}, {"Authorization": f"Bearer {forged}"}):
            reply = requests.request(
                route.method, f"{stack.url}{path}", json=route.body(0), headers=headers, timeout=10
            )
            assert reply.status_code == 401, (route.method, path, headers.keys(), reply.text)
    # And the health check stays public
    assert requests.get(f"{stack.url}/health", timeout=10).status_code == 200
