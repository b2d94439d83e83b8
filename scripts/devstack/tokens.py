"""Tokens of the local stack, standing in for Cognito's: RS256 JWTs and the JWKS to check them.

The signing key (RSA 2048) is generated on first use and kept in the git-ignored data folder,
with the issuer URL of the stack that uses it (``oidc.json``). The local OpenID Connect provider
(oidc.py) issues ID and access tokens with the claims Cognito puts in them;
``python -m scripts.local_token`` issues the same ID tokens without a browser. The local gateway
verifies an ID token as API Gateway's Cognito authorizer does (signature against the JWKS,
issuer, audience = the app client, expiry, ``token_use`` = id), then hands the claims to the
handler. Not for use outside the local stack.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ROLE_GROUPS = ("readers", "editors", "admins")
UNIT_GROUP = re.compile(r"^unit-[a-z0-9][a-z0-9-]{0,47}$")
WEB_CLIENT_ID = "patronus-web-local"
ALGORITHM = "RS256"
KEY_FILE = "oidc-signing-key.pem"
ISSUER_FILE = "oidc.json"
DEFAULT_PORT = 8080


class InvalidToken(ValueError):
    """The token is malformed, forged, expired or not meant for this API."""


def is_unit_group(name: str) -> bool:
    return bool(UNIT_GROUP.match(name))


def check_groups(groups: list[str]) -> None:
    unknown = sorted(g for g in set(groups) if g not in ROLE_GROUPS and not is_unit_group(g))
    if unknown:
        raise ValueError(
            f"unknown group(s) {', '.join(unknown)}; "
            f"use {', '.join(ROLE_GROUPS)} and unit groups such as unit-a"
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class SigningKey:
    """The provider's RSA key: signs tokens; its public half is published as a JWK."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self.private_key = private_key
        self.public_key = private_key.public_key()
        numbers = self.public_key.public_numbers()
        # RFC 7638 thumbprint as the key id, as JWKS publishers commonly do.
        members = {
            "e": _b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            "kty": "RSA",
            "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        }
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
        self.kid = _b64(hashlib.sha256(canonical).digest())

    @classmethod
    def generate(cls) -> SigningKey:
        """A new key kept in memory (a forger's key, in tests)."""
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """The key kept at ``path`` (PEM, mode 0600), created on first use."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            path.touch(mode=0o600)
            path.write_bytes(pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key")
        return cls(loaded)

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        return {**jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


@dataclass(frozen=True)
class TokenIssuer:
    key: SigningKey
    issuer: str

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key.private_key, algorithm=ALGORITHM, headers={"kid": self.key.kid})

    def id_token(
        self,
        username: str,
        groups: list[str],
        *,
        audience: str = WEB_CLIENT_ID,
        ttl_seconds: int = 3600,
        email: str | None = None,
        name: str | None = None,
        nonce: str | None = None,
        auth_time: int | None = None,
    ) -> str:
        """An ID token with Cognito's claims. Locally ``sub`` is the user name (Cognito's is a
        UUID) so that owners and history read as names. ``auth_time`` is when the user signed
        in: a refreshed token keeps it."""
        check_groups(groups)
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": username,
            "aud": audience,
            "token_use": "id",
            "auth_time": auth_time or now,
            "iat": now,
            "exp": now + ttl_seconds,
            "cognito:username": username,
            "cognito:groups": groups,
        }
        if email:
            claims |= {"email": email, "email_verified": True}
        if name:
            claims["name"] = name
        if nonce:
            claims["nonce"] = nonce
        return self._sign(claims)

    def access_token(
        self,
        username: str,
        groups: list[str],
        *,
        client_id: str,
        scope: str,
        ttl_seconds: int = 3600,
        auth_time: int | None = None,
    ) -> str:
        now = int(time.time())
        return self._sign(
            {
                "iss": self.issuer,
                "sub": username,
                "client_id": client_id,
                "token_use": "access",
                "scope": scope,
                "auth_time": auth_time or now,
                "iat": now,
                "exp": now + ttl_seconds,
                "username": username,
                "cognito:groups": groups,
            }
        )


@dataclass(frozen=True)
class TokenVerifier:
    """What API Gateway's Cognito authorizer checks on an ID token."""

    jwks: dict[str, Any]
    issuer: str
    audiences: tuple[str, ...]

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unsupported algorithm")
        key = next((k for k in self.jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=jwt.PyJWK(key).key,
                algorithms=[ALGORITHM],
                audience=list(self.audiences),
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"], "verify_iat": False},
                leeway=0,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("expired") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("token_use") != "id":
            raise InvalidToken("not an ID token")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("no subject")
        return claims


def issuer_url(port: int) -> str:
    """The local provider's issuer: the gateway's address, path /oidc."""
    return f"http://127.0.0.1:{port}/oidc"


def record_issuer(data_dir: Path, issuer: str) -> None:
    """Written by the stack when it starts, so that scripts.local_token signs for it."""
    (data_dir / ISSUER_FILE).write_text(json.dumps({"issuer": issuer, "client_id": WEB_CLIENT_ID}, indent=2))


def local_issuer(data_dir: Path, environ: Mapping[str, str] = os.environ) -> TokenIssuer:
    """The issuer of the stack whose data folder is ``data_dir``: its key, and the issuer URL it
    recorded when it started (before any start: the one of PATRONUS_PORT, else port 8080)."""
    recorded = data_dir / ISSUER_FILE
    if recorded.exists():
        issuer = str(json.loads(recorded.read_text())["issuer"])
    else:
        issuer = issuer_url(int(environ.get("PATRONUS_PORT", "").strip() or DEFAULT_PORT))
    return TokenIssuer(SigningKey.load_or_create(data_dir / KEY_FILE), issuer)


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Flatten as API Gateway does for the Cognito authorizer (every claim a string)."""
    flat: dict[str, str] = {}
    for name, value in claims.items():
        flat[name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return flat
