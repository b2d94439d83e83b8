"""Hostile and malformed input: every request is answered with a clean 4xx (never a 5xx, never
internals in the body) and nothing is stored; SQL-injection strings are searched for literally;
hostile file names never escape the document's key prefix."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scripts.devstack.database import connect
from tests.conftest import LocalStack as Stack
from tests.hardening.header_values import ENTITY_TAGS, IDEMPOTENCY_KEYS, MEDIA_TYPES
from tests.integration.conftest import Caller, Reply

INTERNALS = ("traceback", "pymysql", "pydantic", "sqlstate", "exception", 'file "')


def assert_clean_4xx(reply: Reply, status: int | None = None, case: str = "") -> None:
    """A 4xx (``status`` if given) with the documented error body and no internals in it."""
    assert 400 <= reply.status < 500, (case, reply.status, reply.body[:300])
    if status is not None:
        assert reply.status == status, (case, reply.body[:300])
    body = reply.json
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], case
    text = reply.body.decode(errors="replace").lower()
    assert not [word for word in INTERNALS if word in text], (case, text)


def rows(database_url: str) -> dict[str, int]:
    connection = connect(database_url)
    try:
        with connection.cursor() as cursor:
            counts = {}
            for table in ("dossiers", "documents", "audit_events", "idempotency_keys"):
                cursor.execute(f"SELECT COUNT(*) AS n FROM {table}")
                counts[table] = int(cursor.fetchone()["n"])
            return counts
    finally:
        connection.close()


@pytest.fixture
def dossier(api: Caller) -> dict[str, Any]:
    reply = api("POST", "/v1/dossiers", {"reference": "BAD-INPUT", "title": "Target of bad input"})
    assert reply.status == 201
    return dict(reply.json, etag=reply.headers["etag"])


BIG = "x" * (70 * 1024)
BAD_BODIES: list[tuple[str, str]] = [
    ("oversized body", json.dumps({"reference": "BIG-1", "title": "t", "description": BIG})),
    ("truncated JSON", '{"reference": "J-1", "title": '),
    ("not JSON", "reference=J-1&title=t"),
    ("JSON array", '[{"reference": "J-1", "title": "t"}]'),
    ("JSON null", "null"),
    ("JSON string", '"J-1"'),
    ("empty body", ""),
    ("deeply nested JSON", '{"reference": "J-1", "title": ' + "[" * 20_000 + "]" * 20_000 + "}"),
    ("duplicate keys, last invalid", '{"reference": "J-1", "title": "t", "title": 5}'),
    ("NaN", '{"reference": "J-1", "title": NaN}'),
    ("reference as number", '{"reference": 12, "title": "t"}'),
    ("title as list", '{"reference": "J-1", "title": ["t"]}'),
    ("title too long", json.dumps({"reference": "J-1", "title": "t" * 201})),
    ("description too long", json.dumps({"reference": "J-1", "title": "t", "description": "d" * 10_001})),
    ("reference with spaces", '{"reference": "J 1", "title": "t"}'),
    ("reference with SQL", json.dumps({"reference": "J-1'; DROP TABLE dossiers; --", "title": "t"})),
    ("control characters in title", json.dumps({"reference": "J-1", "title": "a\u0000b\u001b[31m"})),
    ("unknown field", '{"reference": "J-1", "title": "t", "owner": "mallory"}'),
    ("missing title", '{"reference": "J-1"}'),
]


def test_bad_dossier_bodies_are_refused_and_store_nothing(api: Caller, database_url: str) -> None:
    # Given an empty database
    before = rows(database_url)
    for case, body in BAD_BODIES:
        # When a dossier is created with a bad body
        reply = api("POST", "/v1/dossiers", raw_body=body)
        # Then a clean 4xx, and nothing stored
        assert_clean_4xx(reply, 413 if case == "oversized body" else 400, case)
        assert rows(database_url) == before, case


def test_a_body_that_is_not_utf8_is_refused(api: Caller, database_url: str) -> None:
    # Given bytes that are not UTF-8 (API Gateway passes them base64-encoded)
    from patronus_api import handler as api_handler
    from scripts.devstack.gateway import LambdaContext, cognito_claims, response_parts, rest_event

    event = rest_event(
        "POST",
        "/v1/dossiers",
        headers={"Content-Type": "application/json"},
        body=b'{"reference": "\xff\xfe", "title": "t"}',
        claims=cognito_claims("alice", ["editors"]),
    )
    assert event["isBase64Encoded"] is True
    # When it is posted; Then a clean 400 and nothing stored
    status, pairs, data = response_parts(api_handler.handler(event, LambdaContext()))
    assert_clean_4xx(Reply(status, {k.lower(): v for k, v in pairs}, data), 400)
    assert rows(database_url)["dossiers"] == 0


BAD_UPDATES: list[tuple[str, dict[str, Any], dict[str, str], int]] = [
    ("null status", {"status": None}, {}, 400),
    ("null title", {"title": None}, {}, 400),
    ("archive through PATCH", {"status": "archived"}, {}, 400),
    ("nothing to change", {}, {}, 400),
    ("no If-Match", {"title": "new"}, {"If-Match": ""}, 428),
    # RFC 9110: a well-formed entity tag that is not a version matches nothing (412); a value
    # that is not an entity tag at all is malformed (400).
    ("If-Match not a version", {"title": "new"}, {"If-Match": '"abc"'}, 412),
    ("If-Match too long a version", {"title": "new"}, {"If-Match": '"' + "9" * 30 + '"'}, 412),
    ("If-Match superscript digit", {"title": "new"}, {"If-Match": '"\u00b2"'}, 412),
    ("If-Match weak tag", {"title": "new"}, {"If-Match": 'W/"1"'}, 412),
    ("If-Match unquoted", {"title": "new"}, {"If-Match": "1"}, 400),
    ("If-Match two tags without a comma", {"title": "new"}, {"If-Match": '"1" "2"'}, 400),
    ("If-Match beyond Latin-1", {"title": "new"}, {"If-Match": '"\u0661"'}, 400),
    ("If-Match too long", {"title": "new"}, {"If-Match": '"' + "1" * 2000 + '"'}, 400),
    ("stale If-Match", {"title": "new"}, {"If-Match": '"7"'}, 412),
    ("oversized", {"title": "new", "description": BIG}, {}, 413),
]


def test_bad_updates_are_refused_and_change_nothing(
    api: Caller, database_url: str, dossier: dict[str, Any]
) -> None:
    # Given a dossier at version 1
    before = rows(database_url)
    for case, body, headers, status in BAD_UPDATES:
        sent = {"If-Match": dossier["etag"], **headers}
        if not sent["If-Match"]:
            del sent["If-Match"]
        # When it is updated badly
        reply = api("PATCH", f"/v1/dossiers/{dossier['id']}", raw_body=json.dumps(body), headers=sent)
        # Then a clean 4xx, the dossier unchanged
        assert_clean_4xx(reply, status, case)
        assert rows(database_url) == before, case
    assert api("GET", f"/v1/dossiers/{dossier['id']}").json["version"] == 1


BAD_DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("negative size", {"filename": "a.pdf", "size_bytes": -1}),
    ("size as text", {"filename": "a.pdf", "size_bytes": "10"}),
    ("size beyond the maximum", {"filename": "a.pdf", "size_bytes": 10**30}),
    ("size as float", {"filename": "a.pdf", "size_bytes": 10.5}),
    ("size as bool", {"filename": "a.pdf", "size_bytes": True}),
    ("no usable name", {"filename": "../..", "size_bytes": 1}),
    ("only a separator", {"filename": "/", "size_bytes": 1}),
    ("name too long", {"filename": "n" * 1025, "size_bytes": 1}),
    ("content type with CRLF", {"filename": "a.pdf", "size_bytes": 1, "content_type": "text/html\r\nX: y"}),
    ("content type not a MIME type", {"filename": "a.pdf", "size_bytes": 1, "content_type": "../../x"}),
    ("sha256 not hex", {"filename": "a.pdf", "size_bytes": 1, "sha256": "z" * 64}),
]


def test_bad_document_registrations_are_refused_and_store_nothing(
    api: Caller, database_url: str, dossier: dict[str, Any]
) -> None:
    before = rows(database_url)
    for case, body in BAD_DOCUMENTS:
        reply = api("POST", f"/v1/dossiers/{dossier['id']}/documents", body)
        assert_clean_4xx(reply, 400, case)
        assert rows(database_url) == before, case


HOSTILE_NAMES = [
    "../../../etc/passwd",
    "..\\..\\boot.ini",
    "/abs/path.pdf",
    "a\u0000b.pdf",
    "\u202ecod.exe",
    "ctrl\u001b[2J.txt",
]


def test_hostile_file_names_never_leave_the_document_prefix(api: Caller, dossier: dict[str, Any]) -> None:
    for filename in HOSTILE_NAMES:
        # Given a hostile name with traversal, NUL, a bidi override or a terminal escape
        reply = api(
            "POST", f"/v1/dossiers/{dossier['id']}/documents", {"filename": filename, "size_bytes": 3}
        )
        # Then never a 5xx; when accepted, the S3 key is confined to the document's own prefix
        assert reply.status < 500, (filename, reply.body)
        if reply.status != 201:
            assert_clean_4xx(reply, None, filename)
            continue
        key = reply.json["upload"]["fields"]["key"]
        prefix = f"documents/{dossier['id']}/{reply.json['document']['id']}/"
        name = key.removeprefix(prefix)
        assert key.startswith(prefix) and name and "/" not in name and ".." not in name, filename
        assert name.isascii() and all(c.isalnum() or c in "._-" for c in name), filename


INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE dossiers; --",
    '" OR ""="',
    "%",
    "_",
    "\\",
    "%' UNION SELECT public_id, reference FROM dossiers -- ",
    "BAD-INPUT' AND SLEEP(5) --",
    "\u0000",
]


def test_sql_injection_strings_in_search_are_matched_literally(
    api: Caller, database_url: str, dossier: dict[str, Any]
) -> None:
    # Given one dossier, whose reference and title contain none of these strings
    for text in INJECTIONS:
        # When the string is searched for
        reply = api("GET", "/v1/dossiers", query={"q": text}, groups=("readers",))
        # Then the search answers normally and finds nothing; the table is intact
        assert reply.status == 200, (text, reply.body)
        assert reply.json["items"] == [], text
    assert rows(database_url)["dossiers"] == 1
    # And a search for the dossier's own reference still finds it
    assert api("GET", "/v1/dossiers", query={"q": "BAD-INPUT"}).json["items"][0]["id"] == dossier["id"]


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_PAGES: list[tuple[str, dict[str, str]]] = [
    ("huge page", {"limit": "1000000"}),
    ("page of 101", {"limit": "101"}),
    ("zero page", {"limit": "0"}),
    ("negative page", {"limit": "-5"}),
    ("page as text", {"limit": "all"}),
    ("page beyond 64 bits", {"limit": str(2**70)}),
    ("cursor garbage", {"cursor": "not a cursor!"}),
    ("cursor of another format", {"cursor": _cursor("k2:10")}),
    ("cursor with SQL", {"cursor": _cursor("k1:1 OR 1=1")}),
    ("cursor negative", {"cursor": _cursor("k1:-1")}),
    ("cursor zero", {"cursor": _cursor("k1:0")}),
    ("cursor beyond 64 bits", {"cursor": _cursor(f"k1:{2**64}")}),
    ("cursor too long", {"cursor": "A" * 65}),
    ("cursor not ASCII", {"cursor": "ñññ"}),
    ("unknown status", {"status": "deleted"}),
    ("query too long", {"q": "q" * 101}),
]


def test_bad_page_sizes_and_forged_cursors_are_refused(api: Caller, dossier: dict[str, Any]) -> None:
    listings = {
        "/v1/dossiers": {"limit", "cursor", "status", "q"},
        f"/v1/dossiers/{dossier['id']}/documents": {"limit", "cursor"},
        f"/v1/dossiers/{dossier['id']}/history": {"limit", "cursor"},
    }
    for path, parameters in listings.items():
        for case, query in BAD_PAGES:
            if set(query) <= parameters:
                assert_clean_4xx(api("GET", path, query=query, groups=("readers",)), 400, f"{path} {case}")


MALFORMED_PATHS = [
    "/v1/dossiers/..%2F..%2Fetc%2Fpasswd",
    "/v1/dossiers/' OR 1=1 --",
    "/v1/dossiers/" + "a" * 33,
    "/v1/dossiers/ABCDEF0123456789ABCDEF0123456789",
    "/v1/documents/%00",
    "/v1/documents/../dossiers",
]


def test_malformed_ids_in_paths_are_refused(api: Caller) -> None:
    for path in MALFORMED_PATHS:
        for method in ("GET", "DELETE"):
            assert_clean_4xx(api(method, path, groups=("admins",)), None, f"{method} {path}")


def test_bad_idempotency_keys_are_refused(api: Caller, database_url: str) -> None:
    for key in ("k" * 129, "tab\there", "\u0007bell"):
        reply = api(
            "POST", "/v1/dossiers", {"reference": "IDEM-1", "title": "t"}, headers={"Idempotency-Key": key}
        )
        assert_clean_4xx(reply, 400, key)
    assert rows(database_url)["dossiers"] == 0


def test_responses_state_the_time_zone_of_their_timestamps(api: Caller, dossier: dict[str, Any]) -> None:
    # Given a dossier; When it is read; Then its times are RFC 3339 date-times with a zone
    body = api("GET", f"/v1/dossiers/{dossier['id']}").json
    for name in ("created_at", "updated_at"):
        assert body[name].endswith(("Z", "+00:00")), body[name]
    event = api("GET", f"/v1/dossiers/{dossier['id']}/history").json["items"][0]
    assert event["occurred_at"].endswith(("Z", "+00:00"))


def test_an_oversized_body_over_http_is_refused_before_anything_is_stored(stack: Stack) -> None:
    # Given the local stack over real HTTP; When a 1 MB body is posted
    reply = requests.post(
        f"{stack.url}/v1/dossiers",
        data=json.dumps({"reference": "HTTP-BIG", "title": "t", "description": "d" * 1_000_000}),
        headers={**stack.auth(), "Content-Type": "application/json"},
        timeout=30,
    )
    # Then 413, and the dossier does not exist
    assert reply.status_code == 413
    search = requests.get(
        f"{stack.url}/v1/dossiers", params={"q": "HTTP-BIG"}, headers=stack.auth(), timeout=10
    )
    assert search.json()["items"] == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/vnd.api+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_a_body_in_another_media_type_is_refused_with_415(
    api: Caller, database_url: str, content_type: str
) -> None:
    # Given a valid dossier in JSON, labelled with another media type; When it is posted
    reply = api(
        "POST",
        "/v1/dossiers",
        {"reference": "CT-1", "title": "t"},
        headers={"Content-Type": content_type},
    )
    # Then 415 with the error body, and nothing is stored
    assert_clean_4xx(reply, 415, content_type)
    assert rows(database_url)["dossiers"] == 0


def test_json_media_type_is_read_whatever_its_case(api: Caller) -> None:
    reply = api(
        "POST",
        "/v1/dossiers",
        {"reference": "CT-2", "title": "t"},
        headers={"Content-Type": "Application/JSON; Charset=UTF-8"},
    )
    assert reply.status == 201, reply.body


def test_if_match_star_and_lists_follow_rfc_9110(api: Caller, dossier: dict[str, Any]) -> None:
    path = f"/v1/dossiers/{dossier['id']}"
    listed = api("PATCH", path, {"title": "listed"}, headers={"If-Match": '"9", "1"'})
    assert listed.status == 200 and listed.headers["etag"] == '"2"', listed.body
    star = api("PATCH", path, {"title": "any version"}, headers={"If-Match": "*"})
    assert star.status == 200 and star.headers["etag"] == '"3"', star.body


def test_idempotency_keys_compare_byte_for_byte(api: Caller) -> None:
    # Given a dossier created with the key "KEY-x"
    first = api(
        "POST", "/v1/dossiers", {"reference": "IDEM-A", "title": "t"}, headers={"Idempotency-Key": "KEY-x"}
    )
    assert first.status == 201
    # When another request uses "key-x" (another case) or "KEY-x " padded
    second = api(
        "POST", "/v1/dossiers", {"reference": "IDEM-B", "title": "t"}, headers={"Idempotency-Key": "key-x"}
    )
    # Then it is another key: a second dossier, not a replay nor a conflict
    assert second.status == 201 and "idempotent-replayed" not in second.headers, second.body
    assert second.json["id"] != first.json["id"]
    replay = api(
        "POST", "/v1/dossiers", {"reference": "IDEM-A", "title": "t"}, headers={"Idempotency-Key": "KEY-x"}
    )
    assert replay.status == 201 and replay.headers.get("idempotent-replayed") == "true"


def test_every_response_forbids_caching_and_sniffing(api: Caller) -> None:
    for reply in (
        api("GET", "/v1/dossiers"),
        api("GET", "/v1/dossiers/" + "0" * 32),
        api("GET", "/v1/nothing-here"),
        api("POST", "/v1/dossiers", raw_body="{"),
    ):
        assert reply.headers.get("cache-control") == "no-store", reply
        assert reply.headers.get("x-content-type-options") == "nosniff", reply


def test_a_cors_preflight_is_answered_without_a_token(stack: Stack) -> None:
    # Given the web application's origin; When the browser asks before a PATCH with If-Match
    origin = stack.url
    reply = requests.options(
        f"{stack.url}/v1/dossiers/{'0' * 32}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization,content-type,if-match",
        },
        timeout=10,
    )
    # Then API Gateway's answer: 204, the origin, the methods and headers it may use
    assert reply.status_code == 204, reply.text
    assert reply.headers["Access-Control-Allow-Origin"] == origin
    assert "PATCH" in reply.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {h.lower() for h in reply.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match", "idempotency-key"} <= allowed
    # And an origin that is not configured is not echoed
    other = requests.options(
        f"{stack.url}/v1/dossiers",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert other.headers.get("Access-Control-Allow-Origin") != "https://evil.example"


def test_random_headers_and_content_types_never_give_a_server_error(
    api: Caller, dossier: dict[str, Any]
) -> None:
    # Given random Content-Type, If-Match and Idempotency-Key values on the routes that read them
    seen: list[int] = []

    # The explicit examples make sure each refusal is met whatever the generated cases are
    # (generation may differ with what other modules of the session registered).
    @settings(max_examples=30, deadline=None, derandomize=True, database=None)
    @given(media=MEDIA_TYPES, if_match=ENTITY_TAGS, key=IDEMPOTENCY_KEYS, patch=st.booleans())
    @example(media="text/plain", if_match='"1"', key="plain", patch=False)
    @example(media="application/json", if_match='"1"', key="k" * 300, patch=False)
    @example(media="application/json", if_match="\u00be", key="bad-tag", patch=True)
    def exercise(media: str, if_match: str, key: str, patch: bool) -> None:
        headers = {"Content-Type": media, "If-Match": if_match, "Idempotency-Key": key}
        if patch:
            reply = api("PATCH", f"/v1/dossiers/{dossier['id']}", {"title": "fuzzed"}, headers=headers)
        else:
            reply = api("POST", "/v1/dossiers", {"reference": "FZ-1", "title": "t"}, headers=headers)
        seen.append(reply.status)
        # Then never a 5xx, and every refusal has the error body
        assert reply.status < 500, (headers, reply.body[:300])
        if reply.status >= 400:
            assert_clean_4xx(reply, None, repr(headers))

    exercise()
    assert len(seen) >= 30 and {415, 400} <= set(seen), sorted(set(seen))
