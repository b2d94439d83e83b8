"""/v1/people: the people who have signed in, to share a dossier with someone by name."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from patronus.models import NAMES_PER_REQUEST, Role
from patronus_api.access import requires
from patronus_api.auth import profile_from_event
from patronus_api.routes import caller, responses
from patronus_api.runtime import runtime
from patronus_api.schemas import PersonList, PersonName, PersonNames, PersonOut

router = APIGatewayRouter()
TAGS = ["people"]


@router.put(
    "/v1/people/me",
    tags=TAGS,
    summary="Record the caller as their ID token names them (name, e-mail address), so that "
    "others can find them to share a dossier; the web application calls it each time it opens signed in",
    responses=responses(200, "The caller, as recorded"),
    **requires(Role.READER),
)
def record_me() -> PersonOut:
    name, email = profile_from_event(router.current_event.raw_event)
    return PersonOut.of(runtime.people.record_self(caller(router), name=name, email=email))


@router.get(
    "/v1/people/names",
    tags=TAGS,
    summary="How the people with these identifiers are named, for those recorded (anyone who reads: "
    "the screens show who did what by name); at most 100 identifiers",
    responses=responses(200, "Names by identifier, for the people recorded"),
    **requires(Role.READER),
)
def people_names(
    subject: Annotated[
        list[str],
        Query(min_length=1, max_length=NAMES_PER_REQUEST, description="Identifiers (repeat the parameter)"),
    ],
) -> PersonNames:
    names = runtime.people.names(caller(router), subject)
    return PersonNames(items=[PersonName(subject=s, name=n) for s, n in sorted(names.items())])


@router.get(
    "/v1/people",
    tags=TAGS,
    summary="People who have signed in whose name or e-mail address starts with q, or whose "
    "identifier is q (editors and admins, to share a dossier); at most 20, by name",
    responses=responses(200, "The people found"),
    **requires(Role.EDITOR),
)
def find_people(
    q: Annotated[str, Query(min_length=1, max_length=100, description="Start of a name or address")],
) -> PersonList:
    return PersonList(items=[PersonOut.of(row) for row in runtime.people.search(caller(router), q)])
