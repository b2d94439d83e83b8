"""The local stack's sign-in: the OpenID Connect provider, its tokens, and the gateway's token check.

The provider must behave as Cognito's managed login does for the web application (code flow
with PKCE, refresh, revoke, Cognito-style logout), and the check as API Gateway's Cognito
authorizer does (signature, issuer, audience, expiry, ID tokens only).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest

from scripts.devstack.oidc import Client, LocalOidcProvider
from scripts.devstack.replies import Reply
from scripts.devstack.tokens import (
    KEY_FILE,
    WEB_CLIENT_ID,
    InvalidToken,
    SigningKey,
    TokenIssuer,
    TokenVerifier,
    authorizer_claims,
    issuer_url,
)

ISSUER = issuer_url(8080)
APP = "http://127.0.0.1:8080"
CALLBACK = f"{APP}/auth/callback"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def provider(key: SigningKey) -> LocalOidcProvider:
    client = Client(WEB_CLIENT_ID, frozenset({CALLBACK}), frozenset({f"{APP}/signed-out"}))
    return LocalOidcProvider(ISSUER, key, {WEB_CLIENT_ID: client})


@pytest.fixture
def verifier(key: SigningKey) -> TokenVerifier:
    return TokenVerifier({"keys": [key.public_jwk()]}, ISSUER, (WEB_CLIENT_ID,))


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorization(challenge: str, **overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": WEB_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": "s-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }


def post(provider: LocalOidcProvider, path: str, form: dict[str, str]) -> Reply:
    reply = provider.handle("POST", f"/oidc{path}", "", urlencode(form).encode())
    assert reply is not None
    return reply


def redirect_params(reply: Reply) -> dict[str, str]:
    assert reply.status == 302
    location = dict(reply.headers)["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sign_in(provider: LocalOidcProvider, **choice: str) -> tuple[str, str]:
    """The browser's part: the authorize form posted with the user's choice; returns the code."""
    verifier, challenge = pkce()
    form = (
        authorization(challenge) | {"username": "alice", "role": "editors", "units": "unit-a unit-b"} | choice
    )
    params = redirect_params(post(provider, "/oauth2/authorize", form))
    assert params["state"] == "s-1"
    return params["code"], verifier


def exchange(provider: LocalOidcProvider, code: str, verifier: str, **overrides: str) -> Reply:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": WEB_CLIENT_ID,
        "code_verifier": verifier,
    }
    return post(provider, "/oauth2/token", form | overrides)


def test_discovery_names_the_endpoints_and_the_key(provider: LocalOidcProvider, key: SigningKey) -> None:
    reply = provider.handle("GET", "/oidc/.well-known/openid-configuration", "", b"")
    assert reply is not None and ("Access-Control-Allow-Origin", "*") in reply.headers
    document = json.loads(reply.body)
    assert document["issuer"] == ISSUER
    assert document["token_endpoint"] == f"{ISSUER}/oauth2/token"
    assert document["end_session_endpoint"] == f"{ISSUER}/logout"
    assert document["code_challenge_methods_supported"] == ["S256"]
    jwks = provider.handle("GET", "/oidc/.well-known/jwks.json", "", b"")
    assert jwks is not None
    assert json.loads(jwks.body)["keys"] == [key.public_jwk()]
    assert "d" not in key.public_jwk()  # never the private part
    assert provider.handle("GET", "/v1/dossiers", "", b"") is None


def test_the_code_flow_gives_an_id_token_with_cognito_claims(
    provider: LocalOidcProvider, verifier: TokenVerifier
) -> None:
    # Given the sign-in page for an authorization request in English
    _, challenge = pkce()
    page = provider.handle(
        "GET", "/oidc/oauth2/authorize", urlencode(authorization(challenge, lang="en")), b""
    )
    assert page is not None and page.status == 200
    assert b"Local sign-in to Patronus" in page.body and b'name="code_challenge"' in page.body
    csp = dict(page.headers)["Content-Security-Policy"]
    assert f"form-action 'self' {APP};" in csp and "script-src" not in csp
    # When alice picks the editor role and two units, and the application exchanges the code
    code, code_verifier = sign_in(provider, email="alice@example.org", name="  Alice   Martin ")
    reply = exchange(provider, code, code_verifier)
    # Then it gets ID, access and refresh tokens; the ID token passes the gateway's check
    assert reply.status == 200
    tokens = json.loads(reply.body)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    claims = verifier.verify(tokens["id_token"])
    assert claims["sub"] == "alice" and claims["cognito:username"] == "alice"
    assert claims["cognito:groups"] == ["editors", "unit-a", "unit-b"]
    assert claims["aud"] == WEB_CLIENT_ID and claims["token_use"] == "id"
    assert claims["nonce"] == "n-1" and claims["email"] == "alice@example.org"
    assert claims["name"] == "Alice Martin"  # the display name, spaces tidied
    assert authorizer_claims(claims)["cognito:groups"] == "editors,unit-a,unit-b"
    # but the access token is not accepted by the API, as with Cognito's ID-token authorizer
    with pytest.raises(InvalidToken):
        verifier.verify(tokens["access_token"])


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "email"}, "invalid_scope"),
    ],
)
def test_an_authorization_request_without_pkce_s256_or_openid_is_refused(
    provider: LocalOidcProvider, change: dict[str, str], error: str
) -> None:
    _, challenge = pkce()
    reply = provider.handle(
        "GET", "/oidc/oauth2/authorize", urlencode(authorization(challenge) | change), b""
    )
    assert reply is not None
    params = redirect_params(reply)
    assert params["error"] == error and params["state"] == "s-1"


def test_an_unregistered_client_or_redirect_uri_is_never_redirected_to(provider: LocalOidcProvider) -> None:
    _, challenge = pkce()
    for change in ({"redirect_uri": "https://evil.example/cb"}, {"client_id": "other"}):
        reply = provider.handle(
            "GET", "/oidc/oauth2/authorize", urlencode(authorization(challenge) | change), b""
        )
        assert reply is not None and reply.status == 400
        assert "Location" not in dict(reply.headers)


def test_a_code_needs_its_verifier_and_works_once(provider: LocalOidcProvider) -> None:
    code, code_verifier = sign_in(provider)
    wrong = exchange(provider, code, pkce()[0])
    assert wrong.status == 400 and json.loads(wrong.body)["error"] == "invalid_grant"
    # the refused attempt used the code up
    assert exchange(provider, code, code_verifier).status == 400
    code, code_verifier = sign_in(provider)
    assert exchange(provider, code, code_verifier, redirect_uri=f"{APP}/elsewhere").status == 400
    code, code_verifier = sign_in(provider)
    assert exchange(provider, code, code_verifier).status == 200
    assert exchange(provider, code, code_verifier).status == 400


def test_the_sign_in_page_refuses_a_bad_choice(provider: LocalOidcProvider) -> None:
    _, challenge = pkce()
    for choice in (
        {"username": "", "role": "editors"},
        {"username": "a", "role": "root"},
        {"username": "a", "role": "readers", "units": "litigation"},
        {"username": "a", "role": "readers", "lifetime": "5"},
    ):
        reply = post(provider, "/oauth2/authorize", authorization(challenge) | choice)
        assert reply.status == 400 and b'role="alert"' in reply.body


def test_refresh_renews_the_tokens_until_revoked(
    provider: LocalOidcProvider, verifier: TokenVerifier
) -> None:
    # Given alice signed in with 70-second tokens
    code, code_verifier = sign_in(provider, lifetime="70")
    first = json.loads(exchange(provider, code, code_verifier).body)
    assert first["expires_in"] == 70
    # When the application refreshes
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": WEB_CLIENT_ID,
    }
    reply = post(provider, "/oauth2/token", refresh)
    # Then new tokens for the same sign-in (auth_time kept: a client checks it), no new refresh token
    assert reply.status == 200
    renewed = json.loads(reply.body)
    assert "refresh_token" not in renewed
    before, after = verifier.verify(first["id_token"]), verifier.verify(renewed["id_token"])
    assert after["auth_time"] == before["auth_time"] and after["exp"] - after["iat"] == 70
    # When the refresh token is revoked, Then it renews nothing any more
    assert (
        post(provider, "/oauth2/revoke", {"token": first["refresh_token"], "client_id": WEB_CLIENT_ID}).status
        == 200
    )
    refused = post(provider, "/oauth2/token", refresh)
    assert refused.status == 400 and json.loads(refused.body)["error"] == "invalid_grant"


def test_logout_goes_back_only_to_a_registered_sign_out_url(provider: LocalOidcProvider) -> None:
    good = urlencode({"client_id": WEB_CLIENT_ID, "logout_uri": f"{APP}/signed-out", "id_token_hint": "x"})
    reply = provider.handle("GET", "/oidc/logout", good, b"")
    assert reply is not None and dict(reply.headers)["Location"] == f"{APP}/signed-out"
    bad = urlencode({"client_id": WEB_CLIENT_ID, "logout_uri": "https://evil.example/"})
    refused = provider.handle("GET", "/oidc/logout", bad, b"")
    assert refused is not None and refused.status == 400 and "Location" not in dict(refused.headers)


def test_the_gateway_check_refuses_what_the_cognito_authorizer_refuses(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    issuer = TokenIssuer(key, ISSUER)
    assert verifier.verify(issuer.id_token("alice", ["readers"]))["sub"] == "alice"
    refused = {
        "expired": issuer.id_token("alice", ["readers"], ttl_seconds=-1),
        "another key": TokenIssuer(SigningKey.generate(), ISSUER).id_token("alice", ["admins"]),
        "another issuer": TokenIssuer(key, issuer_url(9999)).id_token("alice", ["admins"]),
        "another client": issuer.id_token("alice", ["admins"], audience="other-client"),
        "an access token": issuer.access_token("alice", ["admins"], client_id=WEB_CLIENT_ID, scope="openid"),
        "HS256 with the public key as secret": jwt.encode(
            {
                "iss": ISSUER,
                "sub": "eve",
                "aud": WEB_CLIENT_ID,
                "token_use": "id",
                "iat": 0,
                "exp": time.time() + 60,
            },
            "a secret of thirty-two bytes or more",
            algorithm="HS256",
            headers={"kid": key.kid},
        ),
        "not a token": "abc.def",
    }
    for what, token in refused.items():
        with pytest.raises(InvalidToken):
            verifier.verify(token)
            pytest.fail(f"accepted {what}")


def test_the_signing_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    first = SigningKey.load_or_create(tmp_path / KEY_FILE)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert SigningKey.load_or_create(tmp_path / KEY_FILE).kid == first.kid
    assert SigningKey.generate().kid != first.kid
