"""The local gateway's own answers (sign-in provider, web application), as status, headers, body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def json(cls, status: int, payload: Any, *, cors: bool = False) -> Reply:
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        if cors:
            headers.append(("Access-Control-Allow-Origin", "*"))
        return cls(status, tuple(headers), json.dumps(payload).encode())

    @classmethod
    def redirect(cls, location: str) -> Reply:
        return cls(HTTPStatus.FOUND, (("Location", location), ("Cache-Control", "no-store")), b"")

    @classmethod
    def page(
        cls, status: int, text: str, *, csp: str = "default-src 'none'; style-src 'unsafe-inline'"
    ) -> Reply:
        headers = (
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Content-Security-Policy", f"{csp}; frame-ancestors 'none'"),
            ("X-Content-Type-Options", "nosniff"),
        )
        return cls(status, headers, text.encode())
