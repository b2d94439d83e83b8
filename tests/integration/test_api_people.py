"""The people who have signed in: each records themselves from their own token, editors find
them by name, address or identifier to share a dossier."""

from __future__ import annotations

import uuid

from tests.integration.conftest import Caller


def test_people_record_themselves_from_their_token_and_editors_find_them(api: Caller) -> None:
    # Given two people who signed in, one of whom changed her name since her first session
    tag = uuid.uuid4().hex[:6]
    zoe, yann = f"zoe-{tag}", f"yann-{tag}"
    first = api("PUT", "/v1/people/me", user=zoe, groups=("readers",), claims={"name": f"Zoé Z{tag}"})
    assert first.status == 200 and first.json == {"subject": zoe, "name": f"Zoé Z{tag}", "email": None}
    renamed = {"name": f"Zoé Martin-{tag}", "email": f"zoe.{tag}@example.fr"}
    assert api("PUT", "/v1/people/me", user=zoe, groups=("readers",), claims=renamed).status == 200
    # (a user with no name in the token is recorded with their user name, whatever they send)
    body = {"subject": "someone-else", "name": "Forged"}
    me = api("PUT", "/v1/people/me", body, user=yann, groups=("editors",))
    assert me.status == 200 and me.json == {"subject": yann, "name": yann, "email": None}

    # When an editor looks for the start of her new name, accents and case aside, or of her address
    for q in (f"zoe martin-{tag}", f"ZOE.{tag}@", zoe):
        found = api("GET", "/v1/people", user="ed", groups=("editors",), query={"q": q})
        # Then she is found once, as her latest token names her
        assert found.status == 200, found.json
        expected = {"subject": zoe, "name": f"Zoé Martin-{tag}", "email": renamed["email"]}
        assert found.json["items"] == [expected]
    # And her old name finds nobody, and a wildcard is taken literally
    for q in (f"Zoé Z{tag}", "%", "_"):
        found = api("GET", "/v1/people", user="ed", groups=("editors",), query={"q": q})
        assert found.status == 200 and found.json["items"] == [], (q, found.json)


def test_looking_people_up_is_for_editors_and_needs_a_text(api: Caller) -> None:
    assert api("GET", "/v1/people", groups=("readers",), query={"q": "a"}).status == 403
    assert api("GET", "/v1/people", groups=("editors",), query={"q": "   "}).status == 400
    assert api("GET", "/v1/people", groups=("editors",)).status == 400
    assert api("PUT", "/v1/people/me", groups=("guests",), units=()).status == 403


def test_a_grant_to_a_person_who_signed_in_carries_their_name(api: Caller) -> None:
    # Given a dossier of unit-test, a person who signed in and one who never did
    tag = uuid.uuid4().hex[:6]
    signed_in, never = f"sam-{tag}", f"noor-{tag}"
    api("PUT", "/v1/people/me", user=signed_in, groups=("readers",), claims={"name": "Sam Durand"})
    dossier = api("POST", "/v1/dossiers", {"reference": f"PEOPLE-{tag}", "title": "T"}).json
    path = f"/v1/dossiers/{dossier['id']}/grants"
    for grantee in (signed_in, never):
        body = {"grantee_type": "user", "grantee": grantee, "permission": "reader"}
        assert api("PUT", path, body).status == 200
    # When the grants are listed; Then the first carries her name, the other none
    names = {g["grantee"]: g["grantee_name"] for g in api("GET", path).json["items"]}
    assert names == {signed_in: "Sam Durand", never: None}


def test_anyone_who_reads_gets_the_names_of_the_people_recorded(api: Caller) -> None:
    # Given one person recorded and one not
    tag = uuid.uuid4().hex[:6]
    known, unknown = f"lou-{tag}", f"max-{tag}"
    claims = {"name": "Lou Petit", "email": "l@x.fr"}
    api("PUT", "/v1/people/me", user=known, groups=("readers",), claims=claims)
    # When a reader asks for both names (the parameter repeated)
    reply = api("GET", "/v1/people/names", groups=("readers",), query={"subject": [known, unknown]})
    # Then only the recorded one is named, without her address
    assert reply.status == 200, reply.json
    assert reply.json == {"items": [{"subject": known, "name": "Lou Petit"}]}
    # And asking for none, or for more than a page, is refused
    assert api("GET", "/v1/people/names", groups=("readers",)).status == 400
    many = [f"s{n}" for n in range(101)]
    assert api("GET", "/v1/people/names", groups=("readers",), query={"subject": many}).status == 400
