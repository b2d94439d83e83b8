"""Dossier routes through the real handler, against MariaDB."""

from __future__ import annotations

import threading

import pytest

from patronus.db import Database
from patronus.errors import PreconditionFailed
from patronus.models import Principal
from patronus.repositories.dossiers import SearchFilter
from patronus.services.dossiers import DossierService
from patronus.settings import Settings
from tests.integration.conftest import Caller


def new_dossier(api: Caller, reference: str = "DOS-1", title: str = "Contrat de bail") -> dict:
    reply = api("POST", "/v1/dossiers", {"reference": reference, "title": title})
    assert reply.status == 201, reply.body
    return reply.json


def test_create_then_get_returns_the_dossier_with_its_etag(api: Caller) -> None:
    # Given a dossier created by an editor
    created = new_dossier(api, "DOS-2024-0001", "Dossier de Mme Héloïse Dubois")
    # When a reader gets it
    reply = api("GET", f"/v1/dossiers/{created['id']}", groups=("readers",))
    # Then it comes back whole, with the version as ETag
    assert reply.status == 200
    assert reply.json["title"] == "Dossier de Mme Héloïse Dubois"
    assert reply.json["status"] == "open"
    assert reply.json["owner"] == "alice"
    assert reply.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "no reference"}, "body.reference"),
        ({"reference": "DOS 1", "title": "space in reference"}, "body.reference"),
        ({"reference": "DOS-1", "title": ""}, "body.title"),
        ({"reference": "DOS-1", "title": "x" * 201}, "body.title"),
        ({"reference": "DOS-1", "title": 42}, "body.title"),
        ({"reference": "DOS-1", "title": "ok", "owner": "mallory"}, "body.owner"),
        ({"reference": "DOS-1", "title": "bell\x07"}, "body.title"),
    ],
)
def test_invalid_input_gets_400_with_field_details(api: Caller, body: dict, field: str) -> None:
    reply = api("POST", "/v1/dossiers", body)
    assert reply.status == 400
    assert reply.json["error"]["code"] == "invalid_request"
    assert field in [d["field"] for d in reply.json["error"]["details"]]


def test_invalid_json_gets_400(api: Caller) -> None:
    reply = api("POST", "/v1/dossiers", raw_body='{"reference": "DOS-1", ')
    assert reply.status == 400
    assert reply.json["error"]["details"][0]["issue"] == "the body is not valid JSON"


def test_without_claims_the_api_answers_401(api: Caller) -> None:
    assert api("GET", "/v1/dossiers", user=None).status == 401


@pytest.mark.parametrize(
    ("method", "path_template", "body", "groups"),
    [
        ("GET", "/v1/dossiers", None, ()),
        ("POST", "/v1/dossiers", {"reference": "DOS-9", "title": "t"}, ("readers",)),
        ("PATCH", "/v1/dossiers/{id}", {"title": "t2"}, ("readers",)),
        ("DELETE", "/v1/dossiers/{id}", None, ("editors",)),
    ],
)
def test_roles_are_enforced(
    api: Caller, method: str, path_template: str, body: dict | None, groups: tuple
) -> None:
    dossier = new_dossier(api)
    reply = api(
        method, path_template.format(id=dossier["id"]), body, groups=groups, headers={"If-Match": '"1"'}
    )
    assert reply.status == 403
    assert reply.json["error"]["code"] == "forbidden"


def test_unknown_dossier_is_404_and_malformed_id_is_400(api: Caller) -> None:
    assert api("GET", "/v1/dossiers/" + "0" * 32).status == 404
    assert api("GET", "/v1/dossiers/not-an-id").status == 400


def test_duplicate_reference_is_409(api: Caller) -> None:
    new_dossier(api, "DOS-DUP")
    reply = api("POST", "/v1/dossiers", {"reference": "DOS-DUP", "title": "again"})
    assert reply.status == 409
    assert "DOS-DUP" in reply.json["error"]["message"]


def test_update_needs_if_match_and_refuses_a_stale_version(api: Caller) -> None:
    dossier = new_dossier(api)
    path = f"/v1/dossiers/{dossier['id']}"
    # Without If-Match: 428
    assert api("PATCH", path, {"title": "new"}).status == 428
    # With the current ETag: applied, version moves on
    first = api("PATCH", path, {"title": "new"}, headers={"If-Match": '"1"'})
    assert first.status == 200 and first.json["version"] == 2 and first.headers["etag"] == '"2"'
    # With the old ETag again: 412, nothing changed
    stale = api("PATCH", path, {"title": "stale"}, headers={"If-Match": '"1"'})
    assert stale.status == 412
    assert api("GET", path).json["title"] == "new"


def test_archive_is_for_admins_and_freezes_the_dossier(api: Caller) -> None:
    dossier = new_dossier(api)
    path = f"/v1/dossiers/{dossier['id']}"
    archived = api("DELETE", path, groups=("admins",))
    assert archived.status == 200 and archived.json["status"] == "archived"
    assert api("PATCH", path, {"title": "x"}, headers={"If-Match": archived.headers["etag"]}).status == 409


def test_list_searches_filters_and_paginates(api: Caller) -> None:
    for i in range(5):
        new_dossier(api, f"SRCH-{i}", f"Search target {i}")
    new_dossier(api, "OTHER-1", "Unrelated")
    seen: list[str] = []
    cursor = None
    while True:
        query = {"q": "SRCH", "limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = api("GET", "/v1/dossiers", query=query, groups=("readers",))
        assert reply.status == 200
        seen += [d["reference"] for d in reply.json["items"]]
        cursor = reply.json["next_cursor"]
        if not cursor:
            break
    assert seen == [f"SRCH-{i}" for i in reversed(range(5))]
    by_title = api("GET", "/v1/dossiers", query={"q": "Unrel"}).json["items"]
    assert [d["reference"] for d in by_title] == ["OTHER-1"]
    assert api("GET", "/v1/dossiers", query={"status": "archived"}).json["items"] == []


@pytest.mark.parametrize(
    "query", [{"cursor": "garbage!"}, {"cursor": "azE6LTE"}, {"limit": "100000"}, {"status": "x"}]
)
def test_bad_listing_parameters_are_400(api: Caller, query: dict) -> None:
    assert api("GET", "/v1/dossiers", query=query).status == 400


def test_search_text_is_matched_literally(api: Caller) -> None:
    new_dossier(api, "LIT-1", "100% sure")
    new_dossier(api, "LIT-2", "other")
    assert [d["reference"] for d in api("GET", "/v1/dossiers", query={"q": "%"}).json["items"]] == ["LIT-1"]
    assert api("GET", "/v1/dossiers", query={"q": "' OR 1=1 -- "}).json["items"] == []


def test_history_records_every_write(api: Caller) -> None:
    dossier = new_dossier(api)
    path = f"/v1/dossiers/{dossier['id']}"
    api("PATCH", path, {"description": "more"}, headers={"If-Match": '"1"'})
    api("DELETE", path, groups=("admins",))
    history = api("GET", f"{path}/history").json["items"]
    assert [e["action"] for e in history] == ["dossier.archived", "dossier.updated", "dossier.created"]
    assert history[1]["details"] == {"description": "more"}


def test_idempotency_key_replays_the_first_result(api: Caller) -> None:
    body = {"reference": "IDEM-1", "title": "once"}
    first = api("POST", "/v1/dossiers", body, headers={"Idempotency-Key": "k-1"})
    again = api("POST", "/v1/dossiers", body, headers={"Idempotency-Key": "k-1"})
    assert first.status == again.status == 201
    assert again.json["id"] == first.json["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    other = api(
        "POST", "/v1/dossiers", {"reference": "IDEM-2", "title": "x"}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status == 409


def test_concurrent_retries_with_one_idempotency_key_create_exactly_one_dossier(
    api_settings: Settings,
) -> None:
    # Given 8 execution environments (own connections) retrying the same create at once
    principal = Principal(subject="alice", groups=frozenset({"editors"}), units=frozenset({"unit-test"}))
    barrier = threading.Barrier(8)
    results: list[str] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        service = DossierService(Database(api_settings.database))
        barrier.wait()
        try:
            created = service.create(
                principal, reference="RACE-1", title="race", description=None, idempotency_key="same-key"
            )
            results.append(created.dossier.public_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            service.db.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then every attempt got the same dossier, and the database holds exactly one
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    service = DossierService(Database(api_settings.database))
    rows, _ = service.search(principal, SearchFilter(text="RACE-1"), limit=10)
    assert len(rows) == 1


def test_concurrent_updates_lose_no_write(api_settings: Settings) -> None:
    # Given one dossier and 6 writers that each add their own word, retrying on 412
    principal = Principal(subject="alice", groups=frozenset({"editors"}), units=frozenset({"unit-test"}))
    setup = DossierService(Database(api_settings.database))
    dossier = setup.create(
        principal, reference="CONC-1", title="t", description="", idempotency_key=None
    ).dossier
    barrier = threading.Barrier(6)
    conflicts: list[int] = []

    def writer(word: str) -> None:
        service = DossierService(Database(api_settings.database))
        barrier.wait()
        for _ in range(100):
            current = service.get(principal, dossier.public_id)
            try:
                service.update(
                    principal,
                    dossier.public_id,
                    expected_version=current.version,
                    changes={"description": f"{current.description} {word}".strip()},
                )
                break
            except PreconditionFailed:
                conflicts.append(1)
        service.db.close()

    words = [f"w{i}" for i in range(6)]
    threads = [threading.Thread(target=writer, args=(w,)) for w in words]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then every word is there: no update overwrote another
    final = setup.get(principal, dossier.public_id)
    assert sorted((final.description or "").split()) == sorted(words)
    assert final.version == 1 + len(words)
