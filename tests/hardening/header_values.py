"""Random values for the request headers the API reads: Content-Type, If-Match, Idempotency-Key.

Used by the in-process bad-input test and by the schemathesis run over HTTP. Values are Latin-1
text (so every byte 0x20-0xFF, tab included, can reach the wire: a non-ASCII character is sent
as its one Latin-1 byte, and UTF-8 sequences appear as pairs of them), never CR or LF, and never
a leading space: what an HTTP client can send at all (requests refuses anything else before
sending). Header names come in case variants, since HTTP header names are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

# The shape requests accepts for a header value (requests._internal_utils): empty, or a
# non-space first character and no CR/LF.
_LATIN1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, include_characters="\t")
HEADER_TEXT = st.text(_LATIN1, max_size=40).filter(lambda value: not value[:1].isspace())

MEDIA_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "APPLICATION/JSON",
            "Application/Json; Charset=UTF-8",
            "application/json;charset=iso-8859-1",
            "application/json; boundary=x; q=0.5",
            "application/json;",
            "text/plain",
            "text/plain; charset=utf-8",
            "text/json",
            "application/vnd.api+json",
            "application/merge-patch+json",
            "application/problem+json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "*/*",
            "application/",
            "/json",
            "json",
            "",
        ]
    ),
    st.from_regex(
        r"[A-Za-z*]{1,8}/[A-Za-z0-9.+*-]{1,16}(; ?[A-Za-z]{1,8}=(\"[ -~]{0,8}\"|[A-Za-z0-9-]{0,8}))*",
        fullmatch=True,
    ),
    HEADER_TEXT,
)

ENTITY_TAGS = st.one_of(
    st.sampled_from(['"1"', "*", 'W/"1"', '"9", "1"', '"1', '""', '"1",', ",", "1", '"01"', "* , *", ""]),
    st.from_regex(r'(W/)?"[!#-~\x80-\xff]{0,10}"( ?, ?(W/)?"[0-9]{0,10}"){0,3}', fullmatch=True),
    HEADER_TEXT,
)

IDEMPOTENCY_KEYS = st.one_of(
    st.from_regex(r"[!-~][ -~]{0,126}[!-~]", fullmatch=True),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=129, max_size=140),
    HEADER_TEXT,
)

FUZZED = {"Content-Type": MEDIA_TYPES, "If-Match": ENTITY_TAGS, "Idempotency-Key": IDEMPOTENCY_KEYS}


def name_variants(name: str) -> st.SearchStrategy[str]:
    """``name`` as written, in lower or upper case, or with each letter's case drawn."""
    mixed = st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(name, upper, strict=True))
    )
    return st.one_of(st.sampled_from([name, name.lower(), name.upper()]), mixed)


@st.composite
def with_fuzzed_headers(draw: st.DrawFn, headers: Mapping[str, Any] | None) -> dict[str, Any]:
    """``headers`` where each of :data:`FUZZED`, under whatever spelling, is left out or replaced
    by a random value under a name in any case (a value generated from the schema is dropped:
    these strategies cover it, and a request without the header is a case too)."""
    fuzzed = {name.lower() for name in FUZZED}
    result = {key: value for key, value in (headers or {}).items() if key.lower() not in fuzzed}
    for name, values in FUZZED.items():
        value = draw(st.none() | values)
        if value is not None:
            result[draw(name_variants(name))] = value
    return result
