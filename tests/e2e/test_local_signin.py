"""The local stack over HTTP: its sign-in provider, its token check and the application's files."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import requests

from scripts.devstack.tokens import WEB_CLIENT_ID
from tests.conftest import ROOT, LocalStack


def test_local_token_prints_a_token_the_gateway_accepts(local_stack: LocalStack) -> None:
    # Given the stack's data folder; When the documented command prints a token
    printed = subprocess.run(
        [sys.executable, "-m", "scripts.local_token", "alice", "--groups", "readers,unit-a"],
        cwd=ROOT,
        env={**os.environ, "PATRONUS_DATA_DIR": str(local_stack.data_dir)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Then the gateway lets it through to the API
    reply = requests.get(
        f"{local_stack.url}/v1/dossiers", headers={"Authorization": f"Bearer {printed}"}, timeout=10
    )
    assert reply.status_code == 200, reply.text


def sign_in_over_http(stack: LocalStack) -> dict[str, str]:
    """The code flow with PKCE as the application runs it, without a browser."""
    session = requests.Session()
    discovery = session.get(f"{stack.url}/oidc/.well-known/openid-configuration", timeout=10).json()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    callback = f"{stack.url}/auth/callback"
    request = {
        "response_type": "code",
        "client_id": WEB_CLIENT_ID,
        "redirect_uri": callback,
        "scope": "openid email profile",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = session.get(discovery["authorization_endpoint"], params=request, timeout=10)
    assert page.status_code == 200 and "Connexion locale" in page.text
    chosen = session.post(
        discovery["authorization_endpoint"],
        data=request | {"username": "dora", "role": "editors", "units": "unit-a"},
        allow_redirects=False,
        timeout=10,
    )
    location = chosen.headers["Location"]
    assert location.startswith(callback + "?")
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = session.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "client_id": WEB_CLIENT_ID,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    return dict(tokens.json())


def test_the_gateway_accepts_id_tokens_of_its_provider_only(local_stack: LocalStack) -> None:
    tokens = sign_in_over_http(local_stack)

    def status(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return requests.get(f"{local_stack.url}/v1/dossiers", headers=headers, timeout=10).status_code

    assert status(tokens["id_token"]) == 200
    assert status(tokens["access_token"]) == 401  # the Cognito authorizer takes ID tokens
    assert status(local_stack.issuer.id_token("dora", ["editors"], audience="another-client")) == 401
    assert status(local_stack.issuer.id_token("dora", ["editors"], ttl_seconds=-5)) == 401
    assert status(local_stack.forged_token("dora", ("editors",))) == 401


def test_the_application_is_served_beside_the_api(local_stack: LocalStack) -> None:
    # Screens are deep links to the application; the API keeps its own answers
    page = requests.get(f"{local_stack.url}/dossiers/0123456789abcdef0123456789abcdef/edit", timeout=10)
    assert page.status_code == 200 and '<div id="root">' in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    config = requests.get(f"{local_stack.url}/config.json", timeout=10).json()
    assert config["authority"] == local_stack.issuer.issuer and config["client_id"] == WEB_CLIENT_ID
    assert requests.get(f"{local_stack.url}/v1/nowhere", timeout=10).status_code == 401
    assert requests.get(f"{local_stack.url}/health", timeout=10).json()["status"] == "ok"
    assert requests.get(f"{local_stack.url}/assets/missing.js", timeout=10).status_code == 404
