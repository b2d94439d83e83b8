"""Business rules: who may do what, what is atomic, what is recorded in the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from patronus.errors import Forbidden
from patronus.models import Principal, Role

T = TypeVar("T")


def utcnow() -> datetime:
    """Naive UTC with microseconds, as stored in DATETIME(6) columns."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_public_id() -> str:
    return uuid.uuid4().hex


def require(principal: Principal, role: Role) -> None:
    if not principal.has(role):
        raise Forbidden(f"this action needs the {role.value} group")


def split_page(rows: list[T], limit: int, last_id: Callable[[T], int]) -> tuple[list[T], int | None]:
    """Split a ``limit + 1`` fetch into the page and the id to continue after."""
    if len(rows) > limit:
        page = rows[:limit]
        return page, last_id(page[-1])
    return rows, None
