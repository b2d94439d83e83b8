"""The caller's identity from the claims that the API Gateway Cognito authorizer verified."""

from __future__ import annotations

import re
from typing import Any

from patronus.errors import Unauthorized
from patronus.models import Principal
from patronus.units import DEFAULT_PREFIX, units_of

_GROUP_SEPARATORS = re.compile(r"[\s,]+")


def parse_groups(value: Any) -> frozenset[str]:
    """``cognito:groups`` arrives as a list, or flattened by API Gateway into a string such as
    ``"editors,readers"`` or ``"[editors readers]"``."""
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(v) for v in value if v)
    if isinstance(value, str):
        return frozenset(g for g in _GROUP_SEPARATORS.split(value.strip("[]")) if g)
    return frozenset()


def _claims(event: dict[str, Any]) -> dict[str, Any]:
    context = event.get("requestContext") or {}
    return dict((context.get("authorizer") or {}).get("claims") or {})


def profile_from_event(event: dict[str, Any]) -> tuple[str, str | None]:
    """How the caller's ID token names them: their name, else their user name, else their
    address, else their subject (as the web application shows them); and their address."""
    claims = _claims(event)
    name = next(
        (
            str(claims[key])
            for key in ("name", "cognito:username", "preferred_username", "email", "sub")
            if claims.get(key)
        ),
        "",
    )
    email = claims.get("email")
    return name, str(email) if email else None


def principal_from_event(event: dict[str, Any], unit_prefix: str = DEFAULT_PREFIX) -> Principal:
    """The caller: their subject, their groups, and among these their units (the groups named
    ``<unit_prefix><name>``)."""
    claims = _claims(event)
    subject = claims.get("sub") or claims.get("cognito:username")
    if not subject:
        raise Unauthorized("authentication required: send a valid bearer token")
    groups = parse_groups(claims.get("cognito:groups"))
    return Principal(subject=str(subject)[:128], groups=groups, units=units_of(groups, unit_prefix))
