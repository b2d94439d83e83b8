"""The local gateway serves the built web application as CloudFront does in AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.devstack.replies import Reply
from scripts.devstack.webapp import WebApp, app_origins, is_api_path, local_config

S3 = "http://127.0.0.1:8333"


@pytest.fixture
def webapp(tmp_path: Path) -> WebApp:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><div id="root"></div>')
    (tmp_path / "assets" / "index-AbC123.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("not served")
    return WebApp(tmp_path, local_config("http://127.0.0.1:8080/oidc", "patronus-web-local"), S3)


def headers(reply: Reply | None) -> dict[str, str]:
    assert reply is not None
    return dict(reply.headers)


def test_screens_are_deep_links_to_index_html_and_files_are_files(webapp: WebApp) -> None:
    for path in ("/", "/dossiers", "/dossiers/0123456789abcdef0123456789abcdef/edit", "/auth/callback"):
        reply = webapp.handle("GET", path)
        assert reply is not None and reply.status == 200, path
        assert reply.body.startswith(b"<!doctype html>")
        assert headers(reply)["Cache-Control"] == "no-cache"
    asset = webapp.handle("GET", "/assets/index-AbC123.js")
    assert asset is not None and asset.body == b"console.log(1)"
    assert headers(asset)["Content-Type"].startswith("text/javascript")
    assert "immutable" in headers(asset)["Cache-Control"]
    missing = webapp.handle("GET", "/assets/gone-123.js")
    assert missing is not None and missing.status == 404


def test_the_api_stays_the_api_and_only_reads_are_served(webapp: WebApp) -> None:
    for path in ("/v1/dossiers", "/v1", "/health", "/openapi.json", "/docs"):
        assert is_api_path(path) and webapp.handle("GET", path) is None
    assert not is_api_path("/v1dossiers") and not is_api_path("/healthy")
    assert webapp.handle("POST", "/dossiers") is None


def test_nothing_outside_the_build_is_served(webapp: WebApp) -> None:
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        reply = webapp.handle("GET", path)
        assert reply is None or b"not served" not in reply.body, path


def test_the_runtime_configuration_names_the_local_sign_in(webapp: WebApp) -> None:
    reply = webapp.handle("GET", "/config.json")
    assert reply is not None and reply.status == 200
    assert json.loads(reply.body) == {
        "authority": "http://127.0.0.1:8080/oidc",
        "client_id": "patronus-web-local",
        "api_base": "/",
        "redirect_path": "/auth/callback",
        "logout_path": "/signed-out",
        "default_locale": "fr",
        "unit_prefix": "unit-",
    }


def test_the_runtime_configuration_names_units_as_the_local_api_does(tmp_path: Path) -> None:
    config = local_config("http://127.0.0.1:8080/oidc", "patronus-web-local", "team_")
    reply = WebApp(tmp_path, config, S3).handle("GET", "/config.json")
    assert reply is not None and json.loads(reply.body)["unit_prefix"] == "team_"


def test_the_security_headers_are_those_of_the_distribution(webapp: WebApp) -> None:
    reply = webapp.handle("GET", "/dossiers")
    assert reply is not None
    csp = headers(reply)["Content-Security-Policy"]
    assert "script-src 'self';" in csp and f"connect-src 'self' {S3};" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers(reply)["X-Content-Type-Options"] == "nosniff"


def test_an_unbuilt_application_says_how_to_build_it(tmp_path: Path) -> None:
    reply = WebApp(tmp_path / "dist", {}, S3).handle("GET", "/")
    assert reply is not None and reply.status == 503 and b"make run" in reply.body


def test_the_origins_are_the_gateway_and_the_dev_server() -> None:
    assert app_origins(8080) == (
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://127.0.0.1:5173",
        "http://localhost:5173",
    )
