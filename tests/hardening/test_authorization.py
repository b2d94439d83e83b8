"""Every route with every role: readers read; editors also write; admins also archive and delete;
no token is a 401; a token without a known group reads nothing. Each cell gets its own fresh
dossier and available document, and a refused call must leave the database unchanged.

The matrix is derived: its rows are the API's route table (``patronus_api.route_table``), and the
least role of each route is what the route declares next to its decorator. The services enforce
the roles on their own; this test checks that they enforce what the routes declare.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests

from patronus.models import Role
from patronus_api.route_table import ApiRoute, public_routes, routes
from scripts.devstack.database import connect
from tests.conftest import LocalStack as Stack
from tests.integration.conftest import Caller

NO_TOKEN = "no token"
# Callers: no token, a token without a known group, then one per role. Roles are cumulative:
# the rank of each group says which declared roles it satisfies.
ROLES: dict[str, tuple[str, ...]] = {
    NO_TOKEN: (),
    "no known group": ("guests",),
    **{role.value: (role.value,) for role in Role},
}
RANK: dict[str, int] = {"no known group": 0, Role.READER: 1, Role.EDITOR: 2, Role.ADMIN: 3}
# Request bodies of the routes that take one (test data: the routes themselves come from the table).
BODIES: dict[tuple[str, str], Callable[[int], dict[str, Any]]] = {
    ("POST", "/v1/dossiers"): lambda n: {"reference": f"AUTHZ-NEW-{n}", "title": "New"},
    ("PATCH", "/v1/dossiers/{dossier_id}"): lambda n: {"title": f"Renamed {n}"},
    ("POST", "/v1/dossiers/{dossier_id}/documents"): lambda n: {"filename": "n.pdf", "size_bytes": 1},
}
PROTECTED = [route for route in routes() if not route.public]


def body_of(route: ApiRoute, n: int) -> dict[str, Any] | None:
    make = BODIES.get((route.method, route.path))
    return make(n) if make else None


def expected_status(route: ApiRoute, role: str) -> int:
    if role == NO_TOKEN:
        return 401
    return route.status if RANK[role] >= RANK[route.access] else 403


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
    return {"dossier_id": dossier["id"], "document_id": document["id"]}


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
    # Given every protected route of the route table and every role, each cell with fresh resources
    mismatches: list[str] = []
    table: list[str] = []
    for n, route in enumerate(PROTECTED):
        row = []
        for m, (role, groups) in enumerate(ROLES.items()):
            ids = fresh_resources(api, n * 10 + m)
            path = route.path.format(**ids)
            before = snapshot(database_url)
            # When the route is called with the role
            reply = api(
                route.method,
                path,
                body_of(route, n * 10 + m),
                user=None if role == NO_TOKEN else f"user-{role.replace(' ', '-')}",
                groups=groups,
                headers={"If-Match": '"1"'},
            )
            # Then the status is the one the route's declared role implies, and a refusal changed nothing
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


def test_every_documented_operation_declares_its_access() -> None:
    # Given the OpenAPI document of the API
    from patronus_api.app import _openapi_json

    document = json.loads(_openapi_json())
    documented = {
        (method.upper(), path, operation["x-patronus-access"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    # Then it lists exactly the route table's routes (but the documentation's own), with their access
    table = {(route.method, route.path, route.access) for route in routes()}
    assert documented == table - {("GET", "/openapi.json", "public"), ("GET", "/docs", "public")}


def test_the_gateway_refuses_every_protected_route_without_a_valid_token(stack: Stack) -> None:
    # Given the local stack's gateway; When each protected route is called without a token, or with
    # a token signed with another secret; Then 401 before the function is reached
    from scripts.devstack.tokens import issue

    forged = issue(b"another secret, not the stack's", "mallory", ["admins"])
    some_id = "0" * 32
    for route in PROTECTED:
        path = route.path.format(**dict.fromkeys(route.parameters, some_id))
        for headers in ({}, {"Authorization": f"Bearer {forged}"}):
            reply = requests.request(
                route.method, f"{stack.url}{path}", json=body_of(route, 0), headers=headers, timeout=10
            )
            assert reply.status_code == 401, (route.method, path, headers.keys(), reply.text)
    # And the public routes answer without one
    for route in public_routes():
        reply = requests.request(route.method, f"{stack.url}{route.path}", timeout=10)
        assert reply.status_code == route.status, (route.method, route.path, reply.text)


def test_the_gateway_home_page_links_to_the_docs(stack: Stack) -> None:
    # Given the local stack; When a browser opens its address; Then a page that links to the docs
    reply = requests.get(f"{stack.url}/", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert 'href="/docs"' in reply.text
