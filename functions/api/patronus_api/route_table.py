"""The API's routes as data: method, path, access and success status of every route of the resolver.

The resolver in :mod:`patronus_api.app` is the one place where routes are declared; this module
reads it for those who must agree with it: the api stack (API Gateway resources, methods and
authorizers), the local gateway (which paths need no token) and the tests (route consistency,
authorization matrix). The Lambda handler never imports it, so the function's cold start does
not pay for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from patronus.models import Role
from patronus_api.access import ACCESS_EXTENSION, PUBLIC

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

# The order in which the methods of one path are listed (and created in API Gateway).
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# What a browser on an allowed origin may send and read (API Gateway's CORS preflight, and the
# local gateway's, answer with these).
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Amz-Date")
CORS_EXPOSE_HEADERS = ("ETag", "Location", "Idempotent-Replayed", "Retry-After")
CORS_MAX_AGE_SECONDS = 3600
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class RouteTableError(ValueError):
    """A route of the resolver does not declare who may call it, or declares an unknown role."""


@dataclass(frozen=True)
class ApiRoute:
    """One route. ``path`` uses OpenAPI templating (``/v1/dossiers/{dossier_id}``); ``access`` is
    ``"public"`` or the value of the least :class:`~patronus.models.Role` (``"editors"``...)."""

    path: str
    method: str
    access: str
    status: int

    @property
    def public(self) -> bool:
        return self.access == PUBLIC

    @property
    def role(self) -> Role | None:
        """The least role that may call the route; None for a public route."""
        return None if self.public else Role(self.access)

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the path parameters, in path order."""
        return tuple(_PARAMETER.findall(self.path))

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (``GET /v1/dossiers/0a1b...``) is for this route: a parameter
        stands for one non-empty path segment."""
        expected, actual = self.path.split("/"), path.split("/")
        return (
            method.upper() == self.method
            and len(expected) == len(actual)
            and all(
                e == a or (bool(a) and _PARAMETER.fullmatch(e)) for e, a in zip(expected, actual, strict=True)
            )
        )

    @property
    def sort_key(self) -> tuple[str, int]:
        return (self.path, METHOD_ORDER.index(self.method))


def routes(resolver: APIGatewayRestResolver | None = None) -> list[ApiRoute]:
    """Every route of ``resolver`` (default: the API's), sorted by path, then method.

    Raises :class:`RouteTableError` when a route declares no access (``public()`` or
    ``requires(role)`` of :mod:`patronus_api.access`) or an unknown role.
    """
    if resolver is None:
        from patronus_api.app import app

        resolver = app
    # Powertools keeps the registered routes in these two lists (static paths, then paths with
    # parameters); a route is one method on one path.
    registered = [*resolver._static_routes, *resolver._dynamic_routes]
    if not registered:
        raise RouteTableError("the resolver has no routes (has Powertools moved its route list?)")
    table = [
        _route(route.method, route.openapi_path, route.openapi_extensions, route.status_code)
        for route in registered
    ]
    return sorted(table, key=lambda route: route.sort_key)


def _route(method: str, path: str, extensions: dict[str, object] | None, status: int) -> ApiRoute:
    access = (extensions or {}).get(ACCESS_EXTENSION)
    if access is None:
        raise RouteTableError(
            f"{method} {path}: declare who may call it with **public() or **requires(Role.…) "
            "(patronus_api.access)"
        )
    if access != PUBLIC and access not in Role._value2member_map_:
        raise RouteTableError(f"{method} {path}: unknown role {access!r}")
    return ApiRoute(path=path, method=method, access=str(access), status=status)


def cors_methods(table: list[ApiRoute]) -> list[str]:
    """The methods of the routes and the preflight's, in :data:`METHOD_ORDER`."""
    used = {route.method for route in table} | {"OPTIONS"}
    return [method for method in METHOD_ORDER if method in used]


def public_routes(table: list[ApiRoute] | None = None) -> list[ApiRoute]:
    """The routes anyone may call without a token."""
    return [route for route in (routes() if table is None else table) if route.public]
