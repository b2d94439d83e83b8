"""The smoke test's checks of the web origin, against a CloudFront stand-in on 127.0.0.1.

The stand-in serves a built page and config.json through the local gateway's web application
(``scripts/devstack/webapp.py``, whose headers come from the same contract as CloudFront's headers
policy), answers ``/health`` as the API does, and adds what CloudFront adds over HTTPS (HSTS) when
asked to. Each test can take a header away, to see the check fail.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.devstack.webapp import WebApp, local_config
from scripts.operator_tools import smoke
from scripts.operator_tools.smoke import Answer, security_header_problems, web_checks

PAGE = (
    '<!doctype html><html lang="fr"><head><title>Patronus</title></head>'
    '<body><div id="root"></div></body></html>'
)


@dataclass
class Origin:
    """What the stand-in answers: headers to drop, headers to replace, deep links refused."""

    url: str = ""
    drop: set[str] = field(default_factory=set)
    replace: dict[str, str] = field(default_factory=dict)
    deep_links: bool = True


@pytest.fixture
def origin(tmp_path: Path) -> Iterator[Origin]:
    (tmp_path / "index.html").write_text(PAGE)
    app = WebApp(
        dist=tmp_path,
        config=local_config("http://127.0.0.1:8080/oidc", "patronus-web-local"),
        s3_endpoint="http://127.0.0.1:8333",
    )
    state = Origin()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/health":
                status, headers, body = 200, [("Content-Type", "application/json")], b'{"status": "ok"}'
                headers += list(app.security_headers())
            elif path.startswith("/dossiers/") and not state.deep_links:
                status, headers, body = 404, [("Content-Type", "text/plain")], b"not found"
            else:
                reply = app.handle("GET", path)
                assert reply is not None
                status, headers, body = reply.status, list(reply.headers), reply.body
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in state.drop and name not in state.replace:
                    self.send_header(name, value)
            for name, value in state.replace.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield state
    server.shutdown()
    server.server_close()


def run_checks(url: str) -> dict[str, smoke.Check]:
    report = smoke.Report(api_url=url, path="/v1/dossiers", dry_run=True, web_url=url)
    for name, check in web_checks(url):
        smoke.timed(report, name, check)
    return {check.name: check for check in report.checks}


def test_the_page_a_deep_link_config_json_and_health_pass_with_their_headers(origin: Origin) -> None:
    checks = run_checks(origin.url)
    assert list(checks) == ["web_page", "web_deep_link", "web_config", "web_api"]
    assert all(check.ok for check in checks.values()), checks
    assert "client patronus-web-local" in checks["web_config"].detail


@pytest.mark.parametrize(
    ("change", "failing", "message"),
    [
        ({"drop": {"content-security-policy"}}, "web_page", "no Content-Security-Policy"),
        (
            {
                "replace": {
                    "Content-Security-Policy": "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
                }
            },
            "web_config",
            "script-src is \"'self' 'unsafe-inline'\"",
        ),
        ({"replace": {"Content-Security-Policy": "script-src 'self'"}}, "web_api", "forbid framing"),
        ({"drop": {"x-content-type-options"}}, "web_page", "nosniff"),
        ({"drop": {"referrer-policy"}}, "web_api", "no Referrer-Policy"),
        ({"deep_links": False}, "web_deep_link", "answered 404"),
    ],
)
def test_a_missing_header_or_deep_link_fails_its_check(
    origin: Origin, change: dict[str, object], failing: str, message: str
) -> None:
    # Given an origin that lacks one thing
    for name, value in change.items():
        setattr(origin, name, value)
    # When the web checks run, Then that check fails and says what is missing
    check = run_checks(origin.url)[failing]
    assert not check.ok
    assert message in check.detail


def test_over_https_hsts_of_a_year_is_required() -> None:
    headers = {
        "content-security-policy": "default-src 'self'; script-src 'self'; frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
        "referrer-policy": "strict-origin-when-cross-origin",
    }
    assert security_header_problems(Answer(200, headers, b""), https=False) == []
    assert security_header_problems(Answer(200, headers, b""), https=True) == [
        "no Strict-Transport-Security with a max-age of a year or more"
    ]
    short = {**headers, "strict-transport-security": "max-age=86400"}
    assert security_header_problems(Answer(200, short, b""), https=True) != []
    good = {**headers, "strict-transport-security": "max-age=63072000; includeSubDomains"}
    assert security_header_problems(Answer(200, good, b""), https=True) == []


def test_the_report_names_the_web_url(origin: Origin) -> None:
    report = smoke.Report(api_url="https://api.example/dev/", path="/v1", dry_run=False, web_url=origin.url)
    assert json.loads(json.dumps(report.to_json()))["web_url"] == origin.url
    assert f"and {origin.url}" in smoke.summary(report)
