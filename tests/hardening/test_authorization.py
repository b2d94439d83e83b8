"""Every route with every global role and every relation to the dossier: no token is a 401, a
role below the route's declared one a 403; then the dossier's unit and grants decide: a dossier
the caller may not see is a 404, one they may see but not change a 403. A refused call must leave
the database unchanged; the list route answers 200 to everyone but holds the dossier only for
those who may see it.

The matrix is derived: its rows are the API's route table (``patronus_api.route_table``), the
least role of each route is what the route declares next to its decorator, and what each relation
allows is the small model below (written here, independently of ``patronus.access``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from patronus.models import Role
from patronus_api.route_table import ApiRoute, public_routes, routes
from scripts.devstack.database import connect
from tests.conftest import LocalStack as Stack
from tests.integration.conftest import Caller

UNIT, OTHER_UNIT, GRANTED_UNIT = "unit-matrix", "unit-elsewhere", "unit-granted"
GRANTED_USER = "granted-user"
NO_TOKEN = "no token"
RANK: dict[str, int] = {"no known group": 0, Role.READER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Relation:
    """How a caller stands to the dossier: their units, their name, and what that gives them."""

    name: str
    units: tuple[str, ...]
    user: str = "someone"
    sees: bool = False  # without being an admin
    edits: bool = False  # with an editor role, without being an admin
    shares: bool = False  # with an editor role, without being an admin


# The dossier is in UNIT, shared as editor with GRANTED_USER and as reader with GRANTED_UNIT.
RELATIONS = (
    Relation("same unit", (UNIT,), sees=True, edits=True, shares=True),
    Relation("other unit", (OTHER_UNIT,)),
    Relation("granted user", (OTHER_UNIT,), user=GRANTED_USER, sees=True, edits=True),
    Relation("granted unit", (GRANTED_UNIT,), sees=True),
    Relation("no relation", ()),
)
CALLERS: list[tuple[str, tuple[str, ...], Relation]] = [
    (NO_TOKEN, (), RELATIONS[0]),
    ("no known group", ("guests",), RELATIONS[0]),
    *[(role.value, (role.value,), relation) for role in Role for relation in RELATIONS],
]
# Request bodies and queries of the routes that take one (test data: the routes come from the table).
BODIES: dict[tuple[str, str], Callable[[int], dict[str, Any]]] = {
    ("POST", "/v1/dossiers"): lambda n: {"reference": f"AUTHZ-NEW-{n}", "title": "New", "unit": UNIT},
    ("PATCH", "/v1/dossiers/{dossier_id}"): lambda n: {"title": f"Renamed {n}"},
    ("POST", "/v1/dossiers/{dossier_id}/documents"): lambda n: {"filename": "n.pdf", "size_bytes": 1},
    ("PUT", "/v1/dossiers/{dossier_id}/grants"): lambda n: {
        "grantee_type": "user",
        "grantee": f"third-party-{n}",
        "permission": "reader",
    },
}
QUERIES = {
    ("DELETE", "/v1/dossiers/{dossier_id}/grants"): {"grantee_type": "user", "grantee": "third-party"},
    ("GET", "/v1/people"): {"q": "a"},
    ("GET", "/v1/people/names"): {"subject": "a"},
}
SHARING = {("PUT", "/v1/dossiers/{dossier_id}/grants"), ("DELETE", "/v1/dossiers/{dossier_id}/grants")}
# Successful calls of these routes change the dossier or document for the calls after them.
CONSUMING = {
    ("PATCH", "/v1/dossiers/{dossier_id}"),
    ("DELETE", "/v1/dossiers/{dossier_id}"),
    ("DELETE", "/v1/documents/{document_id}"),
    ("DELETE", "/v1/documents/{document_id}/upload"),
}
# Routes of an upload in progress: called on a pending multipart document, not the available one.
UPLOADING = {
    ("GET", "/v1/documents/{document_id}/parts"),
    ("POST", "/v1/documents/{document_id}/upload"),
    ("DELETE", "/v1/documents/{document_id}/upload"),
}
# Reads that hand out the right to write (presigned upload URLs): for those who may edit.
WRITING_READS = {("GET", "/v1/documents/{document_id}/parts")}
PROTECTED = [route for route in routes() if not route.public]
LIST = ("GET", "/v1/dossiers")
CREATE = ("POST", "/v1/dossiers")
# About no dossier: the role alone decides.
UNRELATED = {
    ("GET", "/v1/units"),
    ("GET", "/v1/people"),
    ("GET", "/v1/people/names"),
    ("PUT", "/v1/people/me"),
}


def body_of(route: ApiRoute, n: int) -> dict[str, Any] | None:
    make = BODIES.get((route.method, route.path))
    return make(n) if make else None


def expected_status(route: ApiRoute, role: str, relation: Relation) -> int:
    if role == NO_TOKEN:
        return 401
    if RANK[role] < RANK[route.access]:
        return 403
    admin, key = role == Role.ADMIN, (route.method, route.path)
    if key == LIST or key in UNRELATED:
        return route.status
    if key == CREATE:  # in the dossier's unit: its members and admins only
        return route.status if admin or UNIT in relation.units else 403
    if not (admin or relation.sees):
        return 404
    if admin or (route.method == "GET" and key not in WRITING_READS):
        return route.status
    allowed = relation.shares if key in SHARING else relation.edits
    return route.status if allowed else 403


def fresh_resources(api: Caller, n: int) -> dict[str, str]:
    """A dossier of UNIT, shared with GRANTED_USER (editor) and GRANTED_UNIT (reader), and an
    available document in it, made by an admin of the unit; and a pending multipart document
    (``uploading_id``) for the routes of an upload in progress."""
    admin: dict[str, Any] = {"groups": ("admins",), "units": (UNIT,)}
    dossier = api("POST", "/v1/dossiers", {"reference": f"AUTHZ-{n}", "title": "Authz"}, **admin).json
    path = f"/v1/dossiers/{dossier['id']}"
    for grant in (("user", GRANTED_USER, "editor"), ("unit", GRANTED_UNIT, "reader")):
        body = dict(zip(("grantee_type", "grantee", "permission"), grant, strict=True))
        assert api("PUT", f"{path}/grants", body, **admin).status == 200
    data = b"%PDF-1.7 authz"
    created = api(
        "POST",
        f"{path}/documents",
        {"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": len(data)},
        **admin,
    ).json
    upload = created["upload"]
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("a.pdf", data, "application/pdf")}, timeout=30
    )
    assert posted.status_code in (200, 204)
    document = api("POST", f"/v1/documents/{created['document']['id']}/complete", **admin).json
    assert document["status"] == "available"
    uploading = api(
        "POST",
        f"{path}/documents",
        {"filename": "big.bin", "content_type": "application/octet-stream", "size_bytes": 9 * 1024 * 1024},
        **admin,
    ).json
    assert uploading["upload"]["method"] == "MULTIPART"
    return {
        "dossier_id": dossier["id"],
        "document_id": document["id"],
        "uploading_id": uploading["document"]["id"],
    }


def snapshot(connection: Any) -> list[tuple[Any, ...]]:
    """What a refused call must not change (one connection for the whole matrix: opening one
    costs more than the queries)."""
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for query in (
            "SELECT public_id, title, status, unit, version FROM dossiers ORDER BY id",
            "SELECT public_id, status FROM documents ORDER BY id",
            "SELECT dossier_id, grantee_type, grantee, permission FROM dossier_grants"
            " ORDER BY dossier_id, grantee_type, grantee",
            "SELECT COUNT(*) AS n FROM audit_events",
        ):
            cursor.execute(query)
            rows += [tuple(row.values()) for row in cursor.fetchall()]
    return rows


def test_every_route_with_every_role_and_relation(api: Caller, database_url: str) -> None:
    # Given every protected route of the route table, every role and every relation to a dossier
    mismatches: list[str] = []
    table: list[str] = []
    shared = fresh_resources(api, 0)
    connection = connect(database_url)
    for n, route in enumerate(PROTECTED):
        row = []
        for m, (role, groups, relation) in enumerate(CALLERS):
            cell = (n + 1) * 100 + m
            expected = expected_status(route, role, relation)
            consumed = (route.method, route.path) in CONSUMING and expected < 400
            ids = fresh_resources(api, cell) if consumed else shared
            if (route.method, route.path) in UPLOADING:
                ids = {**ids, "document_id": ids["uploading_id"]}
            before = snapshot(connection)
            # When the route is called by that caller
            reply = api(
                route.method,
                route.path.format(dossier_id=ids["dossier_id"], document_id=ids["document_id"]),
                body_of(route, cell),
                user=None if role == NO_TOKEN else relation.user,
                groups=groups,
                units=relation.units,
                headers={"If-Match": '"1"'},
                query=QUERIES.get((route.method, route.path)),
            )
            # Then the status is the one the declared role and the relation imply; a refusal
            # changed nothing, and the list shows the dossier exactly to those who may see it
            row.append(f"{reply.status}")
            label = f"{route.method} {route.path} as {role} ({relation.name})"
            if reply.status != expected:
                mismatches.append(f"{label}: {reply.status}, expected {expected}: {reply.body[:200]!r}")
            elif expected >= 400:
                assert reply.json["error"]["code"] in {"unauthorized", "forbidden", "not_found"}
                if snapshot(connection) != before:
                    mismatches.append(f"{label}: refused but changed data")
            elif (route.method, route.path) == LIST:
                listed = shared["dossier_id"] in {d["id"] for d in reply.json["items"]}
                if listed != (role == Role.ADMIN or relation.sees):
                    mismatches.append(f"{label}: the list {'shows' if listed else 'hides'} the dossier")
        table.append(f"{route.method:6} {route.path:38} " + " ".join(f"{s:>3}" for s in row))
    connection.close()
    assert not mismatches, "\n".join([*mismatches, "", "status table:", *table])


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
    # a token signed with another key; Then 401 before the function is reached
    forged = stack.forged_token("mallory", ("admins",))
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


def test_the_gateway_serves_the_web_application_at_the_root(stack: Stack) -> None:
    # Given the local stack; When a browser opens its address; Then the web application (which
    # links to nothing that needs a token before sign-in)
    reply = requests.get(f"{stack.url}/", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert '<div id="root">' in reply.text
