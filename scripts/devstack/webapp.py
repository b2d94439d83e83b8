"""The built web application (web/dist) served by the local gateway, as CloudFront serves it.

Files under /assets/ carry a content hash in their names and are cached for a year; everything
else is revalidated. A path with no file extension that is not a file is a deep link of the
application: it gets index.html (CloudFront's viewer-request function does the same). The
runtime configuration, /config.json, names the local OpenID Connect provider. The configuration
and the response headers come from the same contract as CloudFront's (``stacks/web/contract.py``):
a Content-Security-Policy with scripts from self only, connections to self and the documents' S3
endpoint, no framing, nosniff (HSTS only in AWS: this server speaks plain HTTP).
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from patronus.units import DEFAULT_PREFIX
from scripts.devstack.replies import Reply
from stacks.web import contract

ASSETS = "/assets/"
DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
REDIRECT_PATH = contract.REDIRECT_PATH
LOGOUT_PATH = contract.LOGOUT_PATH
DEV_SERVER_PORT = 5173  # make web-dev: Vite's dev server, which passes the rest to the gateway
# Paths of the API: the rest is the application's (CloudFront sends /v1/* and /health to API
# Gateway; the OpenAPI document and Swagger UI are the local stack's extras).
API_PATHS = ("/v1", "/health", "/openapi.json", "/docs")
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}


def is_api_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PATHS)


def app_origins(port: int) -> tuple[str, ...]:
    """Where the application may run locally: the gateway itself, and Vite's dev server."""
    return tuple(f"http://{host}:{p}" for p in (port, DEV_SERVER_PORT) for host in ("127.0.0.1", "localhost"))


def local_config(issuer: str, client_id: str, unit_prefix: str = DEFAULT_PREFIX) -> dict[str, str]:
    """The runtime configuration (web/src/config.ts documents each key); ``unit_prefix`` is the
    local API's (``PATRONUS_UNIT_PREFIX``)."""
    return dict(
        contract.runtime_config(
            authority=issuer, client_id=client_id, default_locale="fr", unit_prefix=unit_prefix
        )
    )


@dataclass(frozen=True)
class WebApp:
    dist: Path
    config: dict[str, Any]
    s3_endpoint: str

    def security_headers(self) -> tuple[tuple[str, str], ...]:
        return (
            ("Content-Security-Policy", contract.content_security_policy([self.s3_endpoint])),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", contract.REFERRER_POLICY),
            ("X-Frame-Options", contract.FRAME_OPTIONS),
        )

    def handle(self, method: str, path: str) -> Reply | None:
        """The reply for GET/HEAD of an application path; None for the API's paths and other
        methods."""
        if method not in {"GET", "HEAD"} or is_api_path(path):
            return None
        if path == "/config.json":
            return Reply(
                HTTPStatus.OK,
                (
                    ("Content-Type", "application/json"),
                    ("Cache-Control", "no-cache"),
                    *self.security_headers(),
                ),
                json.dumps(self.config, indent=2).encode(),
            )
        index = self.dist / "index.html"
        if not index.is_file():
            return Reply.page(HTTPStatus.SERVICE_UNAVAILABLE, _not_built_page())
        target = self._file(path)
        if target is None:
            if Path(path).suffix:  # a missing file, not a screen of the application
                return Reply(HTTPStatus.NOT_FOUND, (("Content-Type", "text/plain"),), b"not found\n")
            target = index
        cache = "public, max-age=31536000, immutable" if path.startswith(ASSETS) else "no-cache"
        kind = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Reply(
            HTTPStatus.OK,
            (("Content-Type", kind), ("Cache-Control", cache), *self.security_headers()),
            target.read_bytes(),
        )

    def _file(self, path: str) -> Path | None:
        root = self.dist.resolve()
        candidate = (root / path.lstrip("/")).resolve()
        if candidate != root and root not in candidate.parents:
            return None  # ../ out of the folder
        return candidate if candidate.is_file() else None


def _not_built_page() -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Patronus</title></head>'
        "<body><main><h1>The web application is not built</h1>"
        "<p>Run <code>make run</code> (it builds it), or <code>make web</code>, then reload.</p>"
        "</main></body></html>"
    )
