"""Signed bearer tokens for the local stack, standing in for Cognito ID tokens.

HS256 JWTs signed with a secret generated on first use and kept in the git-ignored data
folder. The local gateway verifies signature, expiry and issuer, then hands the claims to the
handler the way the API Gateway Cognito authorizer does. Not for use outside the local stack.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

ISSUER = "patronus-local"
VALID_GROUPS = ("readers", "editors", "admins")


class InvalidToken(ValueError):
    """The token is malformed, forged or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(path: Path) -> bytes:
    """The signing secret, created (0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return bytes.fromhex(path.read_text().strip())


def issue(
    secret: bytes, subject: str, groups: list[str], ttl_seconds: int = 3600, email: str | None = None
) -> str:
    unknown = sorted(set(groups) - set(VALID_GROUPS))
    if unknown:
        raise ValueError(f"unknown group(s) {', '.join(unknown)}; use {', '.join(VALID_GROUPS)}")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "cognito:username": subject,
        "cognito:groups": groups,
        "token_use": "id",
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if email:
        claims["email"] = email
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def verify(secret: bytes, token: str, *, now: float | None = None) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JWT")
    header_b64, payload_b64, signature_b64 = parts
    expected = hmac.new(secret, f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    try:
        header = json.loads(_unb64(header_b64))
        signature = _unb64(signature_b64)
        claims = json.loads(_unb64(payload_b64))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise InvalidToken("unsupported algorithm")
    if not hmac.compare_digest(signature, expected):
        raise InvalidToken("bad signature")
    if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
        raise InvalidToken("wrong issuer")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= (time.time() if now is None else now):
        raise InvalidToken("expired")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("no subject")
    return claims


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Flatten as API Gateway does for the Cognito authorizer (every claim a string)."""
    flat: dict[str, str] = {}
    for name, value in claims.items():
        flat[name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return flat
