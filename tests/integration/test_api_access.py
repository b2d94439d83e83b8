"""Need-to-know access through the real handler: units, grants, admins, deny by default."""

from __future__ import annotations

from typing import Any

import requests

from tests.integration.conftest import Caller, Reply

A, B = "unit-a", "unit-b"


def as_user(api: Caller, user: str, role: str, *units: str) -> Any:
    def call(method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return api(method, path, body, user=user, groups=(role,), units=units, **kwargs)

    return call


def create(api: Caller, reference: str, unit: str = A, user: str = "alice") -> dict[str, Any]:
    reply = as_user(api, user, "editors", unit)(
        "POST", "/v1/dossiers", {"reference": reference, "title": "T"}
    )
    assert reply.status == 201, reply.json
    return dict(reply.json)


def test_a_user_sees_the_dossiers_of_their_unit_and_nothing_else(api: Caller) -> None:
    # Given a dossier in unit A and one in unit B
    mine, other = create(api, "ACC-A"), create(api, "ACC-B", B, user="bob")
    alice = as_user(api, "carol", "readers", A)
    # When a reader of unit A lists and reads them
    listed = alice("GET", "/v1/dossiers").json["items"]
    # Then the list holds only unit A's dossier, and B's answers 404 exactly as a missing one
    assert [d["reference"] for d in listed] == ["ACC-A"]
    hidden, missing = alice("GET", f"/v1/dossiers/{other['id']}"), alice("GET", f"/v1/dossiers/{'f' * 32}")
    assert (hidden.status, hidden.body) == (missing.status, missing.body) == (404, missing.body)
    for suffix in ("/history", "/documents", "/grants"):
        assert (
            alice("GET", f"/v1/dossiers/{other['id']}{suffix}").body
            == alice("GET", f"/v1/dossiers/{'f' * 32}{suffix}").body
        )
    # ... and the visible one carries the caller's rights and unit
    got = alice("GET", f"/v1/dossiers/{mine['id']}").json
    assert got["unit"] == A
    assert got["rights"] == {
        "read": True,
        "edit": False,
        "share": False,
        "move": False,
        "archive": False,
        "delete_documents": False,
        "relation": "unit",
    }


def test_a_user_in_no_unit_and_without_grants_sees_nothing(api: Caller) -> None:
    create(api, "ACC-NONE")
    nobody = as_user(api, "dave", "editors")
    assert nobody("GET", "/v1/dossiers").json == {"items": [], "next_cursor": None}
    # ... and cannot create without naming a unit, nor in a unit not theirs
    refused = nobody("POST", "/v1/dossiers", {"reference": "ACC-X", "title": "T"})
    assert (refused.status, refused.json["error"]["details"][0]["field"]) == (400, "body.unit")
    assert nobody("POST", "/v1/dossiers", {"reference": "ACC-X", "title": "T", "unit": A}).status == 403


def test_a_duplicate_reference_of_an_invisible_dossier_says_nothing_about_it(api: Caller) -> None:
    create(api, "ACC-DUP", B, user="bob")
    visible_dup = create(api, "ACC-DUP2", A)
    alice = as_user(api, "alice", "editors", A)
    hidden = alice("POST", "/v1/dossiers", {"reference": "ACC-DUP", "title": "Other"})
    seen = alice("POST", "/v1/dossiers", {"reference": visible_dup["reference"], "title": "Other"})
    assert hidden.status == seen.status == 409
    assert hidden.json["error"]["message"].replace("ACC-DUP", "X") == seen.json["error"]["message"].replace(
        "ACC-DUP2", "X"
    )
    assert "unit" not in hidden.body.decode() and "bob" not in hidden.body.decode()


def test_grants_share_within_the_grantees_global_role(api: Caller) -> None:
    # Given a dossier of unit A, shared by an editor of A with bob (B) as editor and with unit C
    dossier = create(api, "ACC-SHARE")
    path = f"/v1/dossiers/{dossier['id']}"
    alice = as_user(api, "alice", "editors", A)
    assert (
        alice(
            "PUT", f"{path}/grants", {"grantee_type": "user", "grantee": "bob", "permission": "editor"}
        ).status
        == 200
    )
    shared = alice(
        "PUT", f"{path}/grants", {"grantee_type": "unit", "grantee": "unit-c", "permission": "reader"}
    )
    assert [(g["grantee_type"], g["grantee"], g["permission"]) for g in shared.json["items"]] == [
        ("unit", "unit-c", "reader"),
        ("user", "bob", "editor"),
    ]
    # Then bob, an editor, may change it but not share it; as a mere reader he may only read
    bob = as_user(api, "bob", "editors", B)
    got = bob("GET", path)
    assert got.json["rights"]["edit"] and not got.json["rights"]["share"]
    assert got.json["rights"]["relation"] == "grant"
    assert bob("PATCH", path, {"title": "By bob"}, headers={"If-Match": got.headers["etag"]}).status == 200
    assert (
        bob(
            "PUT", f"{path}/grants", {"grantee_type": "user", "grantee": "eve", "permission": "reader"}
        ).status
        == 403
    )
    bob_reader = as_user(api, "bob", "readers", B)
    assert bob_reader("GET", path).json["rights"]["edit"] is False
    # ... a member of unit C reads it, and lists it; an editor of C still may not change it
    carol = as_user(api, "carol", "editors", "unit-c")
    assert [d["id"] for d in carol("GET", "/v1/dossiers").json["items"]] == [dossier["id"]]
    latest = carol("GET", path)
    assert latest.status == 200 and not latest.json["rights"]["edit"]
    assert carol("PATCH", path, {"title": "No"}, headers={"If-Match": latest.headers["etag"]}).status == 403
    # When alice revokes unit C's grant, Then C no longer sees it (404), and history shows it all
    alice("DELETE", f"{path}/grants", query={"grantee_type": "unit", "grantee": "unit-c"})
    assert carol("GET", path).status == 404
    actions = [e["action"] for e in alice("GET", f"{path}/history").json["items"]]
    assert actions[:4] == ["grant.revoked", "dossier.updated", "grant.given", "grant.given"]


def test_admins_see_everything_and_their_reads_outside_their_units_are_audited(api: Caller) -> None:
    dossier = create(api, "ACC-ADMIN", B, user="bob")
    path = f"/v1/dossiers/{dossier['id']}"
    admin = as_user(api, "root", "admins", A)
    assert admin("GET", path).json["rights"]["relation"] == "admin"
    admin("GET", f"{path}/history")
    # When the admin moves it to unit A (with If-Match), Then bob's unit loses it
    moved = admin("PATCH", path, {"unit": A}, headers={"If-Match": '"1"'})
    assert moved.json["unit"] == A
    assert as_user(api, "bob", "readers", B)("GET", path).status == 404
    # ... and an editor may not move a dossier
    alice = as_user(api, "alice", "editors", A)
    assert alice("PATCH", path, {"unit": B}, headers={"If-Match": '"2"'}).status == 403
    events = [(e["action"], e["details"]) for e in admin("GET", f"{path}/history").json["items"]]
    assert ("dossier.moved", {"from": B, "to": A}) in events
    reads = [d["read"] for a, d in events if a == "dossier.read_by_admin"]
    assert reads == ["history", "dossier"]  # newest first; after the move A is the admin's unit


def test_every_download_is_audited_with_the_object_version(api: Caller) -> None:
    dossier = create(api, "ACC-DL")
    alice = as_user(api, "alice", "editors", A)
    data = b"%PDF-1.7 download me"
    created = alice(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": len(data)},
    ).json
    upload = created["upload"]
    posted = requests.post(upload["url"], data=upload["fields"], files={"file": ("a.pdf", data)}, timeout=30)
    assert posted.status_code in (200, 204)
    document_id = created["document"]["id"]
    assert alice("POST", f"/v1/documents/{document_id}/complete").status == 200
    # When a reader of the unit downloads it
    reply = as_user(api, "carol", "readers", A)("GET", f"/v1/documents/{document_id}/download")
    # Then the URL is for the exact version, which the history names with the reader and document
    assert requests.get(reply.json["url"], timeout=30).content == data
    event = alice("GET", f"/v1/dossiers/{dossier['id']}/history").json["items"][0]
    assert (event["action"], event["actor"], event["entity_id"]) == (
        "document.downloaded",
        "carol",
        document_id,
    )
    assert event["details"]["version_id"] and event["details"]["version_id"] in reply.json["url"]
    # ... and someone of another unit gets 404 for the document and its download
    bob = as_user(api, "bob", "readers", B)
    assert bob("GET", f"/v1/documents/{document_id}/download").status == 404
    assert bob("GET", f"/v1/documents/{document_id}").status == 404


def test_pages_are_full_and_filters_combine_with_access(api: Caller) -> None:
    # Given unit A's dossiers interleaved with many of unit B
    for n in range(6):
        create(api, f"ACC-P-A{n}")
        for m in range(3):
            create(api, f"ACC-P-B{n}-{m}", B, user="bob")
    alice = as_user(api, "alice", "readers", A)
    # When alice pages through with 4 per page, Then every page but the last is full, all are hers
    first = alice("GET", "/v1/dossiers", query={"limit": "4", "q": "ACC-P"}).json
    second = alice(
        "GET", "/v1/dossiers", query={"limit": "4", "q": "ACC-P", "cursor": first["next_cursor"]}
    ).json
    assert (len(first["items"]), len(second["items"]), second["next_cursor"]) == (4, 2, None)
    assert {d["unit"] for d in first["items"] + second["items"]} == {A}
    # ... and the unit and mine filters narrow what she may see, never widen it
    assert alice("GET", "/v1/dossiers", query={"unit": B}).json["items"] == []
    bob = as_user(api, "bob", "editors", B)
    assert len(bob("GET", "/v1/dossiers", query={"mine": "true", "q": "ACC-P"}).json["items"]) == 18
    assert as_user(api, "alice", "editors", A, B)(
        "GET", "/v1/dossiers", query={"mine": "true", "q": "ACC-P"}
    ).json["items"] == [
        d
        for d in as_user(api, "alice", "editors", A, B)("GET", "/v1/dossiers", query={"q": "ACC-P-A"}).json[
            "items"
        ]
    ]


def test_legacy_paths_are_shown_to_admins_only(api: Caller, database_url: str) -> None:
    from scripts.devstack.database import connect

    dossier = create(api, "ACC-LEGACY")
    alice = as_user(api, "alice", "editors", A)
    document = alice(
        "POST", f"/v1/dossiers/{dossier['id']}/documents", {"filename": "l.pdf", "size_bytes": 1}
    ).json["document"]
    connection = connect(database_url)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE documents SET legacy_path = %s WHERE public_id = %s",
            ("\\\\srv\\share\\l.pdf", document["id"]),
        )
    connection.close()
    assert alice("GET", f"/v1/documents/{document['id']}").json["legacy_path"] is None
    admin = as_user(api, "root", "admins", A)
    assert admin("GET", f"/v1/documents/{document['id']}").json["legacy_path"] == "\\\\srv\\share\\l.pdf"


def test_the_units_list_names_every_unit_met_for_those_who_choose_one(api: Caller) -> None:
    # Given a dossier created in a new unit, and one shared with another unit never used before
    create(api, "UNITS-1", unit="unit-listed")
    shared = create(api, "UNITS-2")
    grant = {"grantee_type": "unit", "grantee": "unit-shared-only", "permission": "reader"}
    alice = as_user(api, "alice", "editors", A)
    assert alice("PUT", f"/v1/dossiers/{shared['id']}/grants", grant).status == 200
    # When an editor of no unit at all, and an admin, ask for the units
    for role in ("editors", "admins"):
        reply = as_user(api, "someone", role)("GET", "/v1/units")
        # Then both units are listed, with the default unit, sorted
        assert reply.status == 200, reply.json
        names = reply.json["items"]
        assert {"unit-listed", "unit-shared-only", "unit-general", A} <= set(names)
        assert names == sorted(names)
    # And a reader, who chooses no unit, is refused
    assert as_user(api, "someone", "readers", A)("GET", "/v1/units").status == 403
