"""A property of the access rules: for random units, dossiers, grants and users, what the API
lists and lets each user read is what a small reference model of the rules says.

The model below is written from the rules as stated (deny by default; a unit's members have their
role on its dossiers; grants give reader or editor, capped by the grantee's role; admins see all),
independently of ``patronus.access``. Examples are few and small so the test runs in seconds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts.devstack.database import connect
from tests.integration.conftest import Caller

UNITS = ("unit-a", "unit-b", "unit-c")
USERS = ("ann", "ben", "cat")
ROLES = ("guests", "readers", "editors", "admins")
LEVEL = {"reader": 1, "editor": 2}
ROLE_LEVEL = {"guests": 0, "readers": 1, "editors": 2, "admins": 2}


@dataclass(frozen=True)
class User:
    name: str
    role: str
    units: frozenset[str]


@dataclass(frozen=True)
class World:
    dossiers: list[str]  # the unit of each dossier
    grants: list[tuple[int, str, str, str]]  # dossier index, grantee type, grantee, permission
    users: list[User]


def level(world: World, user: User, index: int) -> int:
    """The model: 0 nothing, 1 read, 2 edit."""
    if user.role == "admins":
        return 2
    role = ROLE_LEVEL[user.role]
    own = role if world.dossiers[index] in user.units else 0
    granted = [
        LEVEL[permission]
        for dossier, kind, grantee, permission in world.grants
        if dossier == index
        and ((kind == "user" and grantee == user.name) or (kind == "unit" and grantee in user.units))
    ]
    return max([own, *(min(g, role) for g in granted)])


users = st.builds(
    User,
    name=st.sampled_from(USERS),
    role=st.sampled_from(ROLES),
    units=st.frozensets(st.sampled_from(UNITS), max_size=2),
)


@st.composite
def worlds(draw: Any) -> World:
    dossiers = draw(st.lists(st.sampled_from(UNITS), min_size=1, max_size=6))
    grant = st.tuples(
        st.integers(0, len(dossiers) - 1),
        st.sampled_from(("user", "unit")),
        st.sampled_from(USERS + UNITS),
        st.sampled_from(("reader", "editor")),
    ).filter(lambda g: (g[1] == "user") == (g[2] in USERS))
    grants = draw(st.lists(grant, max_size=5, unique_by=lambda g: g[:3]))
    return World(dossiers, grants, draw(st.lists(users, min_size=1, max_size=3, unique_by=lambda u: u.name)))


def store(connection: Any, world: World) -> list[str]:
    """Replace the database's dossiers by the world's; returns their public ids."""
    ids = [uuid.uuid4().hex for _ in world.dossiers]
    with connection.cursor() as cursor:
        for table in ("audit_events", "documents", "dossier_grants", "idempotency_keys", "dossiers"):
            cursor.execute(f"DELETE FROM {table}")
        cursor.executemany(
            "INSERT IGNORE INTO units (name, created_at) VALUES (%s, NOW(6))", [(u,) for u in UNITS]
        )
        cursor.executemany(
            "INSERT INTO dossiers (public_id, reference, title, status, unit, owner, version, created_at,"
            " updated_at) VALUES (%s, %s, 'T', 'open', %s, 'seed', 1, NOW(6), NOW(6))",
            [(pid, f"PROP-{n}", unit) for n, (pid, unit) in enumerate(zip(ids, world.dossiers, strict=True))],
        )
        cursor.executemany(
            "INSERT INTO dossier_grants (dossier_id, grantee_type, grantee, permission, granted_by,"
            " granted_at) SELECT id, %s, %s, %s, 'seed', NOW(6) FROM dossiers WHERE public_id = %s",
            [(kind, grantee, permission, ids[index]) for index, kind, grantee, permission in world.grants],
        )
    return ids


def test_lists_and_reads_follow_the_reference_model(api: Caller, database_url: str) -> None:
    connection = connect(database_url)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(world=worlds())
    def check(world: World) -> None:
        # Given a random world of units, dossiers, grants and users
        ids = store(connection, world)
        for user in world.users:
            call: dict[str, Any] = {"user": user.name, "groups": (user.role,), "units": tuple(user.units)}
            expected = {ids[i]: level(world, user, i) for i in range(len(ids))}
            # When the user lists the dossiers and reads every one of them
            listed = api("GET", "/v1/dossiers", query={"limit": "100"}, **call)
            reads = {pid: api("GET", f"/v1/dossiers/{pid}", **call) for pid in ids}
            # Then the list is exactly the visible dossiers, and each read agrees with the model
            if user.role == "guests":
                assert listed.status == 403 and all(r.status == 403 for r in reads.values())
                continue
            assert {d["id"] for d in listed.json["items"]} == {pid for pid, lvl in expected.items() if lvl}
            for pid, reply in reads.items():
                assert reply.status == (200 if expected[pid] else 404), (user, pid)
                if expected[pid]:
                    assert reply.json["rights"]["edit"] == (expected[pid] == 2)

    try:
        check()
    finally:
        connection.close()
