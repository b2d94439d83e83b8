"""Request headers that carry conditions: If-Match (RFC 9110 section 13.1.1) and Idempotency-Key.

If-Match is ``*`` or a comma-separated list of entity tags (``"7"``, ``W/"7"``). The API's
ETags are a dossier's version in ASCII digits; If-Match uses the strong comparison, so a weak tag
never matches. Anything else is a malformed header (400), never a server error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from patronus.errors import BadRequest

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (RFC 9110 8.8.3);
# members of the list are separated by commas with optional spaces (RFC 9110 5.6.1).
_LIST_MEMBER = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)')
_VERSION = re.compile(r"[0-9]{1,9}")
IDEMPOTENCY_KEY_MAX = 128
# What an Idempotency-Key may hold: printable ASCII, no space at either end. The key is stored
# and compared byte for byte: "KEY-x" and "key-x" are two keys.
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")


@dataclass(frozen=True)
class IfMatch:
    """``versions`` the request may change; None for ``*`` (any current version)."""

    versions: frozenset[int] | None


def _malformed(field: str, issue: str) -> BadRequest:
    return BadRequest(f"invalid {field}", details=[{"field": f"header.{field}", "issue": issue}])


def parse_if_match(value: str) -> IfMatch:
    """Parse an If-Match value: ``*``, or entity tags separated by commas."""
    text = value.strip(" \t")
    if text == "*":
        return IfMatch(None)
    versions: set[int] = set()
    position = 0
    while position < len(text) or position == 0:
        match = _LIST_MEMBER.match(text, position)
        if match is None or match.end() == position:
            raise _malformed("If-Match", '* or ETags such as "7", separated by commas')
        weak, opaque = match.groups()
        if not weak and _VERSION.fullmatch(opaque):  # other tags are valid but match nothing
            versions.add(int(opaque))
        position = match.end()
    return IfMatch(frozenset(versions))


def check_idempotency_key(value: str) -> str:
    if len(value) > IDEMPOTENCY_KEY_MAX or not _IDEMPOTENCY_KEY.fullmatch(value):
        raise _malformed("Idempotency-Key", f"1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters")
    return value
