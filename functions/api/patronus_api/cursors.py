"""Opaque keyset-pagination cursors: ``next_cursor`` of one page is ``cursor`` of the next."""

from __future__ import annotations

import base64
import binascii

from patronus.errors import BadRequest

_PREFIX = "k1:"


def encode(last_id: int | None) -> str | None:
    if last_id is None:
        return None
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _invalid() from exc
    if not text.startswith(_PREFIX) or not text[len(_PREFIX) :].isdigit():
        raise _invalid()
    value = int(text[len(_PREFIX) :])
    if not 0 < value < 2**63:
        raise _invalid()
    return value


def _invalid() -> BadRequest:
    return BadRequest(
        "invalid pagination cursor",
        details=[{"field": "query.cursor", "issue": "not a cursor this API issued"}],
    )
