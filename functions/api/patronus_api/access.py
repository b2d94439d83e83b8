"""Who may call a route: declared once, next to the route, as options of its decorator.

Every route says either ``**public()`` (anyone, no token) or ``**requires(Role.X)`` (a signed-in
caller whose groups give role X or a higher one). The declaration travels with the route: it is
in the OpenAPI document (the ``x-patronus-access`` extension), and the route table
(:mod:`patronus_api.route_table`) reads it to build API Gateway's methods and authorizers, the
local gateway's public paths and the authorization tests. The services enforce the roles; the
authorization matrix checks that they enforce what the routes declare.
"""

from __future__ import annotations

from typing import Any

from patronus.models import Role

ACCESS_EXTENSION = "x-patronus-access"
PUBLIC = "public"


def requires(role: Role) -> dict[str, Any]:
    """Route options: the caller needs a valid token and ``role`` (or a higher role)."""
    return {"openapi_extensions": {ACCESS_EXTENSION: role.value}}


def public() -> dict[str, Any]:
    """Route options: anyone may call the route, without a token (an empty OpenAPI security)."""
    return {"openapi_extensions": {ACCESS_EXTENSION: PUBLIC}, "security": []}
