"""The route table read from the API's resolver, and the local gateway's use of it."""

from __future__ import annotations

import re

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from patronus.models import Role
from patronus_api.access import public, requires
from patronus_api.route_table import ApiRoute, RouteTableError, public_routes, routes
from scripts.devstack.gateway import home_page, needs_token, response_parts
from tests.readme import README


def test_every_route_of_the_api_declares_its_access() -> None:
    # Given the API's resolver; When its route table is read
    table = routes()
    # Then each route has an access, the documentation and the health check are the public ones
    assert {(route.method, route.path) for route in public_routes(table)} == {
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
    }
    assert {route.access for route in table} == {"public", *(role.value for role in Role)}
    # And the routes come sorted by path, then method
    assert table == sorted(table, key=lambda route: route.sort_key)


def test_a_route_without_an_access_declaration_is_refused() -> None:
    # Given a resolver with a route that says nothing about who may call it
    resolver = APIGatewayRestResolver()
    resolver.get("/health", **public())(lambda: {})
    resolver.get("/v1/things")(lambda: {})
    # Then the route table names it
    with pytest.raises(RouteTableError, match="GET /v1/things: declare who may call it"):
        routes(resolver)


def test_an_unknown_role_is_refused() -> None:
    resolver = APIGatewayRestResolver()
    resolver.get("/v1/things", openapi_extensions={"x-patronus-access": "superusers"})(lambda: {})
    with pytest.raises(RouteTableError, match="unknown role 'superusers'"):
        routes(resolver)


def test_paths_use_openapi_templating_and_keep_the_declared_status() -> None:
    resolver = APIGatewayRestResolver()
    resolver.post("/v1/things/<thing_id>/parts", status_code=201, **requires(Role.EDITOR))(
        lambda thing_id: {}
    )
    (route,) = routes(resolver)
    assert route == ApiRoute(path="/v1/things/{thing_id}/parts", method="POST", access="editors", status=201)
    assert route.parameters == ("thing_id",)
    assert route.role is Role.EDITOR and not route.public


@pytest.mark.parametrize(
    ("method", "path", "matches"),
    [
        ("GET", "/v1/dossiers/0123/documents", True),
        ("get", "/v1/dossiers/0123/documents", True),
        ("POST", "/v1/dossiers/0123/documents", False),
        ("GET", "/v1/dossiers//documents", False),
        ("GET", "/v1/dossiers/0123/documents/", False),
        ("GET", "/v1/dossiers/01/23/documents", False),
        ("GET", "/v1/dossiers/0123/history", False),
    ],
)
def test_a_parameter_stands_for_one_path_segment(method: str, path: str, matches: bool) -> None:
    route = ApiRoute(path="/v1/dossiers/{dossier_id}/documents", method="GET", access="readers", status=200)
    assert route.matches(method, path) is matches


@pytest.mark.parametrize(
    ("method", "path", "token"),
    [
        ("GET", "/health", False),
        ("GET", "/docs", False),
        ("GET", "/openapi.json", False),
        ("POST", "/health", True),
        ("GET", "/health/deep", True),
        ("GET", "/v1/dossiers", True),
        ("GET", "/nowhere", True),
    ],
)
def test_the_local_gateway_lets_only_the_public_routes_through_without_a_token(
    method: str, path: str, token: bool
) -> None:
    assert needs_token(routes(), method, path) is token


def test_the_local_gateway_answers_the_root_with_a_page_that_links_to_the_docs() -> None:
    page = home_page("GET", "/")
    assert page is not None
    status, headers, body = response_parts(page)
    assert status == 200 and ("Content-Type", "text/html; charset=utf-8") in headers
    assert b'href="/docs"' in body
    assert home_page("GET", "/health") is None and home_page("POST", "/") is None


def test_the_readme_lists_the_api_routes_with_their_roles() -> None:
    # Given the README's table of the API ("method and path | role | what it does")
    readme = README.read_text(encoding="utf-8")
    table = readme[readme.index("| method and path | role |") :].split("\n\n", 1)[0]
    documented = set()
    for row in table.splitlines()[2:]:
        route, role = (cell.strip() for cell in row.strip("|").split("|")[:2])
        method, path = route.strip("`").split(" ", 1)
        documented.add((method, re.sub(r"\{[^}]*\}", "{}", path.split("?")[0]), role))
    # Then it is the route table (but the documentation's own routes), with the declared roles
    expected = {
        (route.method, re.sub(r"\{[^}]*\}", "{}", route.path), "none" if route.public else route.access)
        for route in routes()
        if route.path not in {"/docs", "/openapi.json"}
    }
    assert documented == expected
