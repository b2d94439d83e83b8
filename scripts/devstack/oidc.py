"""A local OpenID Connect provider that stands in for Cognito's managed login.

The web application signs in the same way locally and in AWS (authorization code flow with
PKCE, then the ID token as the API's bearer token), so this provider answers what Cognito
answers, at the same kind of endpoints:

- ``/.well-known/openid-configuration`` and ``/.well-known/jwks.json`` (RS256 public key);
- ``/oauth2/authorize``: instead of a password page, the developer picks a user, a role
  (readers, editors, admins), units (``unit-...`` groups) and a token lifetime (short ones show
  the session renewal), in French or English (``lang``);
- ``/oauth2/token``: ``authorization_code`` (PKCE S256 required, code single-use, 5 minutes)
  and ``refresh_token`` (new ID and access tokens, the same refresh token, as Cognito without
  rotation); public client, no secret; ``/oauth2/revoke`` ends a refresh token (RFC 7009);
- ``/logout?client_id=...&logout_uri=...``: Cognito's sign-out, which is not OIDC RP-initiated
  logout, redirecting to a registered sign-out URL.

Sessions live in memory: a restart of the stack ends them (the application asks to sign in
again).

Tokens are those tokens.py issues: RS256 JWTs with the claims of a Cognito ID token. Not for use
outside the local stack: anyone who reaches the page may sign in as anyone.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from scripts.devstack.oidc_page import PREFIX, TOKEN_LIFETIMES, authorize_page, error_page
from scripts.devstack.replies import Reply
from scripts.devstack.tokens import ROLE_GROUPS, SigningKey, TokenIssuer, is_unit_group

CODE_TTL_SECONDS = 300
REFRESH_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Client:
    """A registered application: where it may be sent back after sign-in and sign-out."""

    client_id: str
    redirect_uris: frozenset[str]
    logout_uris: frozenset[str]


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    username: str
    groups: tuple[str, ...]
    email: str | None
    name: str | None
    scope: str
    token_ttl: int
    expires: float


@dataclass
class _Session:
    client_id: str
    username: str
    groups: tuple[str, ...]
    email: str | None
    name: str | None
    scope: str
    token_ttl: int
    expires: float
    auth_time: int = field(default_factory=lambda: int(time.time()))


@dataclass
class LocalOidcProvider:
    issuer: str
    signing_key: SigningKey
    clients: Mapping[str, Client]
    known_units: tuple[str, ...] = ("unit-a", "unit-b")
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _refresh: dict[str, _Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def tokens(self) -> TokenIssuer:
        return TokenIssuer(self.signing_key, self.issuer)

    @property
    def page_csp(self) -> str:
        """The sign-in page runs no script; its form posts here, and the answer redirects to a
        client's callback, which form-action must allow too (browsers apply it to redirects)."""
        origins = sorted(
            {
                f"{urlsplit(uri).scheme}://{urlsplit(uri).netloc}"
                for client in self.clients.values()
                for uri in client.redirect_uris
            }
        )
        return f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {' '.join(origins)}"

    def handle(self, method: str, path: str, query: str, body: bytes) -> Reply | None:
        """The reply for a request under /oidc, or None when the path is not the provider's."""
        if not path.startswith(PREFIX + "/"):
            return None
        route = path[len(PREFIX) :]
        if method == "OPTIONS":
            return self._preflight()
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if method == "POST":
            form = {
                k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()
            }
        else:
            form = {}
        match (method, route):
            case ("GET", "/.well-known/openid-configuration"):
                return Reply.json(HTTPStatus.OK, self.discovery(), cors=True)
            case ("GET", "/.well-known/jwks.json"):
                return Reply.json(HTTPStatus.OK, {"keys": [self.signing_key.public_jwk()]}, cors=True)
            case ("GET", "/oauth2/authorize"):
                return self._authorize_page(params)
            case ("POST", "/oauth2/authorize"):
                return self._authorize(form)
            case ("POST", "/oauth2/token"):
                return self._token(form)
            case ("POST", "/oauth2/revoke"):
                return self._revoke(form)
            case ("GET", "/logout"):
                return self._logout(params)
        return Reply.json(HTTPStatus.NOT_FOUND, {"error": "not_found"})

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/oauth2/authorize",
            "token_endpoint": f"{self.issuer}/oauth2/token",
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "end_session_endpoint": f"{self.issuer}/logout",
            "revocation_endpoint": f"{self.issuer}/oauth2/revoke",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
        }

    # --- authorize -----------------------------------------------------------------------

    def _check_request(self, params: Mapping[str, str]) -> tuple[Client, str] | Reply:
        """The client and redirect URI of an authorization request, or the page that refuses it.
        Errors that concern the client are shown, never redirected (RFC 6749 4.1.2.1)."""
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            return Reply.page(HTTPStatus.BAD_REQUEST, error_page("unknown client_id"))
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return Reply.page(
                HTTPStatus.BAD_REQUEST, error_page("redirect_uri is not registered for this client")
            )
        return client, redirect_uri

    def _authorize_page(self, params: Mapping[str, str]) -> Reply:
        checked = self._check_request(params)
        if isinstance(checked, Reply):
            return checked
        _, redirect_uri = checked
        problem = _request_problem(params)
        if problem:
            return Reply.redirect(
                _with_query(
                    redirect_uri, {"error": problem[0], "error_description": problem[1], **_state(params)}
                )
            )
        return Reply.page(HTTPStatus.OK, authorize_page(params, self.known_units), csp=self.page_csp)

    def _authorize(self, form: Mapping[str, str]) -> Reply:
        checked = self._check_request(form)
        if isinstance(checked, Reply):
            return checked
        client, redirect_uri = checked
        problem = _request_problem(form)
        if problem:
            return Reply.redirect(
                _with_query(
                    redirect_uri, {"error": problem[0], "error_description": problem[1], **_state(form)}
                )
            )
        username = form.get("username", "").strip()
        role = form.get("role", "")
        units = sorted({u.strip() for u in form.get("units", "").replace(",", " ").split() if u.strip()})
        ttl = int(form["lifetime"]) if form.get("lifetime", "").isdigit() else TOKEN_LIFETIMES[0]
        if (
            not username
            or role not in ROLE_GROUPS
            or not all(is_unit_group(u) for u in units)
            or ttl not in TOKEN_LIFETIMES
        ):
            return Reply.page(
                HTTPStatus.BAD_REQUEST,
                authorize_page(form, self.known_units, invalid=True),
                csp=self.page_csp,
            )
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            self._codes[code] = _Grant(
                client_id=client.client_id,
                redirect_uri=redirect_uri,
                code_challenge=form["code_challenge"],
                nonce=form.get("nonce") or None,
                username=username,
                groups=(role, *units),
                email=form.get("email", "").strip() or None,
                name=" ".join(form.get("name", "").split())[:200] or None,
                scope=form.get("scope", "openid"),
                token_ttl=ttl,
                expires=time.time() + CODE_TTL_SECONDS,
            )
        return Reply.redirect(_with_query(redirect_uri, {"code": code, **_state(form)}))

    # --- token ---------------------------------------------------------------------------

    def _token(self, form: Mapping[str, str]) -> Reply:
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        if grant_type == "refresh_token":
            return self._refresh_tokens(form)
        return _token_error("unsupported_grant_type", "use authorization_code or refresh_token")

    def _exchange_code(self, form: Mapping[str, str]) -> Reply:
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use, even when refused
        if grant is None or grant.expires < time.time():
            return _token_error("invalid_grant", "unknown, used or expired code")
        if form.get("client_id") != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
            return _token_error(
                "invalid_grant", "client_id or redirect_uri differ from the authorization request"
            )
        if not _pkce_matches(form.get("code_verifier", ""), grant.code_challenge):
            return _token_error("invalid_grant", "code_verifier does not match the code_challenge")
        session = _Session(
            grant.client_id,
            grant.username,
            grant.groups,
            grant.email,
            grant.name,
            grant.scope,
            grant.token_ttl,
            time.time() + REFRESH_TTL_SECONDS,
        )
        refresh_token = secrets.token_urlsafe(48)
        with self._lock:
            self._refresh[refresh_token] = session
        body = self._token_response(session, nonce=grant.nonce)
        body["refresh_token"] = refresh_token
        return Reply.json(HTTPStatus.OK, body, cors=True)

    def _refresh_tokens(self, form: Mapping[str, str]) -> Reply:
        with self._lock:
            session = self._refresh.get(form.get("refresh_token", ""))
        if session is None or session.expires < time.time() or form.get("client_id") != session.client_id:
            return _token_error("invalid_grant", "unknown or expired refresh token")
        # As Cognito (without rotation): new ID and access tokens, the same refresh token.
        return Reply.json(HTTPStatus.OK, self._token_response(session, nonce=None), cors=True)

    def _token_response(self, session: _Session, *, nonce: str | None) -> dict[str, Any]:
        id_token = self.tokens.id_token(
            session.username,
            list(session.groups),
            audience=session.client_id,
            ttl_seconds=session.token_ttl,
            email=session.email,
            name=session.name,
            nonce=nonce,
            auth_time=session.auth_time,
        )
        access_token = self.tokens.access_token(
            session.username,
            list(session.groups),
            client_id=session.client_id,
            scope=session.scope,
            ttl_seconds=session.token_ttl,
            auth_time=session.auth_time,
        )
        return {
            "id_token": id_token,
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": session.token_ttl,
        }

    def _revoke(self, form: Mapping[str, str]) -> Reply:
        """RFC 7009, as Cognito: revoking a refresh token ends the session it renews."""
        with self._lock:
            session = self._refresh.get(form.get("token", ""))
            if session is not None and session.client_id == form.get("client_id"):
                del self._refresh[form["token"]]
        return Reply.json(HTTPStatus.OK, {}, cors=True)

    # --- logout --------------------------------------------------------------------------

    def _logout(self, params: Mapping[str, str]) -> Reply:
        client = self.clients.get(params.get("client_id", ""))
        logout_uri = params.get("logout_uri", "")
        if client is None or logout_uri not in client.logout_uris:
            return Reply.page(
                HTTPStatus.BAD_REQUEST, error_page("unknown client_id or logout_uri not registered")
            )
        return Reply.redirect(logout_uri)

    def _preflight(self) -> Reply:
        return Reply(
            HTTPStatus.NO_CONTENT,
            (
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Methods", "GET, POST"),
                ("Access-Control-Allow-Headers", "Content-Type, Authorization"),
                ("Access-Control-Max-Age", "600"),
            ),
            b"",
        )

    def _forget_expired(self) -> None:
        now = time.time()
        for code in [c for c, g in self._codes.items() if g.expires < now]:
            del self._codes[code]


def _request_problem(params: Mapping[str, str]) -> tuple[str, str] | None:
    if params.get("response_type") != "code":
        return "unsupported_response_type", "only the authorization code flow is supported"
    if "openid" not in params.get("scope", "").split():
        return "invalid_scope", "scope must include openid"
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return "invalid_request", "PKCE with code_challenge_method=S256 is required"
    return None


def _state(params: Mapping[str, str]) -> dict[str, str]:
    return {"state": params["state"]} if params.get("state") else {}


def _with_query(uri: str, values: Mapping[str, str]) -> str:
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(values)}"


def _pkce_matches(verifier: str, challenge: str) -> bool:
    if not 43 <= len(verifier) <= 128:
        return False
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return secrets.compare_digest(expected, challenge)


def _token_error(error: str, description: str) -> Reply:
    return Reply.json(HTTPStatus.BAD_REQUEST, {"error": error, "error_description": description}, cors=True)
