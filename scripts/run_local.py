"""Run Patronus locally: MariaDB + SeaweedFS (S3) + the real Lambda handlers behind an HTTP server.

`make run` calls this. It uses the MySQL-compatible server named by PATRONUS_DB_URL, or starts a
throwaway MariaDB from the installed binaries; starts SeaweedFS with an access key (so presigned
URLs are really checked); applies the schema migrations; seeds demo data; relays S3 "Object
Created" events to the document_events handler, each followed by the scan-result event of the
local malware scanner (EICAR test file only: scripts/devstack/scanner.py; off with
PATRONUS_MALWARE_SCANNING=false); runs the upload expiry on a schedule as EventBridge does; and
serves on http://127.0.0.1:8080 the web
application (web/dist, built by `make run`), a local OpenID Connect sign-in standing in for
Cognito (/oidc), and the API, turning each request into the API Gateway REST event the Lambda
receives in AWS after checking its token as the Cognito authorizer does. Data is kept in .local/
and survives a restart. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import signal
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scripts.devstack.paths import DEFAULT_DATA_DIR, EVENTS, WALKTHROUGH, add_code_paths, local_data_dir

add_code_paths()

from patronus.flags import env_flag  # noqa: E402
from patronus.settings import Settings  # noqa: E402
from scripts.devstack.database import ensure_database, migrate_url, with_database  # noqa: E402
from scripts.devstack.gateway import (  # noqa: E402
    LambdaContext,
    invoke,
    is_preflight,
    needs_token,
    preflight_headers,
    response_parts,
    rest_event,
)
from scripts.devstack.mariadb import ThrowawayMariaDB  # noqa: E402
from scripts.devstack.oidc import Client, LocalOidcProvider  # noqa: E402
from scripts.devstack.replies import Reply  # noqa: E402
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS  # noqa: E402
from scripts.devstack.tokens import (  # noqa: E402
    KEY_FILE,
    WEB_CLIENT_ID,
    InvalidToken,
    SigningKey,
    TokenVerifier,
    authorizer_claims,
    issuer_url,
    record_issuer,
)
from scripts.devstack.webapp import (  # noqa: E402
    DIST,
    LOGOUT_PATH,
    REDIRECT_PATH,
    WebApp,
    app_origins,
    local_config,
)

DEFAULT_PORT = 8080
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
BUCKET = "patronus-documents-local"
log = logging.getLogger("patronus.local")


@dataclass
class Stack:
    api_url: str
    s3_endpoint: str
    db_url: str
    bucket: str
    data_dir: Path
    malware_scanning: bool = False
    upload_expiry_minutes: int | None = None


@dataclass(frozen=True)
class Frontend:
    """What the gateway answers itself: the sign-in provider and the web application."""

    provider: LocalOidcProvider
    verifier: TokenVerifier
    webapp: WebApp

    @classmethod
    def create(cls, port: int, data_dir: Path, s3_endpoint: str, unit_prefix: str) -> Frontend:
        key = SigningKey.load_or_create(data_dir / KEY_FILE)
        issuer = issuer_url(port)
        record_issuer(data_dir, issuer)  # scripts.local_token signs for this issuer
        origins = app_origins(port)
        client = Client(
            WEB_CLIENT_ID,
            redirect_uris=frozenset(origin + REDIRECT_PATH for origin in origins),
            logout_uris=frozenset(origin + LOGOUT_PATH for origin in origins),
        )
        return cls(
            provider=LocalOidcProvider(issuer, key, {WEB_CLIENT_ID: client}),
            verifier=TokenVerifier({"keys": [key.public_jwk()]}, issuer, (WEB_CLIENT_ID,)),
            webapp=WebApp(DIST, local_config(issuer, WEB_CLIENT_ID, unit_prefix), s3_endpoint),
        )

    def reply(self, method: str, path: str, query: str, body: bytes) -> Reply | None:
        """The sign-in's or the application's answer; None for the API's requests."""
        return self.provider.handle(method, path, query, body) or self.webapp.handle(method, path)

    def claims(self, authorization: str) -> dict[str, str] | None:
        """The authorizer's claims of a valid ``Bearer`` ID token, else None."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return authorizer_claims(self.verifier.verify(token.strip()))
        except InvalidToken:
            return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PATRONUS_PORT", str(DEFAULT_PORT))),
        help=f"API port (default: PATRONUS_PORT, else {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--s3-port",
        type=int,
        default=int(os.environ.get("PATRONUS_S3_PORT", "8333")),
        help="S3 port (if free)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=local_data_dir(),
        help="where the database, the objects and the token secret live "
        "(default: PATRONUS_DATA_DIR, else .local)",
    )
    parser.add_argument(
        "--upload-expiry-minutes",
        type=int,
        default=int(os.environ.get("PATRONUS_UPLOAD_EXPIRY_MINUTES", "60")),
        help="how often the upload expiry runs, as its schedule does in AWS (default: "
        "PATRONUS_UPLOAD_EXPIRY_MINUTES, else 60); it expires pending uploads older than "
        "PATRONUS_PENDING_UPLOAD_MAX_AGE_HOURS (24)",
    )
    parser.add_argument("--no-seed", action="store_true", help="do not create demo dossiers")
    parser.add_argument(
        "--show-metrics",
        action="store_true",
        help="print the functions' CloudWatch metrics (EMF JSON lines), hidden by default "
        "(POWERTOOLS_METRICS_DISABLED=false does the same)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found credentials in environment ..."
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stoppers: list[Any] = []
    try:
        db_url = _database(data_dir, stoppers)
        saved = _saved_ports(data_dir).get("seaweedfs", {})
        s3 = ThrowawaySeaweedFS(data_dir / "seaweedfs", s3_port=args.s3_port, ports=dict(saved))
        log.info("Starting SeaweedFS (S3) ...")
        s3.start()
        stoppers.append(s3)
        _save_ports(data_dir, {"seaweedfs": s3.ports})
        _prepare_bucket(s3, app_origins(args.port))
        log.info("Applying schema migrations ...")
        report = migrate_url(db_url)
        log.info("  schema at version %s (%d applied now)", report.current_version, len(report.applied))
        _configure_environment(db_url, s3, show_metrics=args.show_metrics)
        if not args.no_seed:
            _seed(db_url)
        scanning = env_flag(os.environ, "PATRONUS_MALWARE_SCANNING")
        relay = _start_event_relay(s3, scanning=scanning)
        stoppers.append(relay)
        expiry_minutes = args.upload_expiry_minutes
        stoppers.append(_start_upload_expiry(expiry_minutes))
        # The application names units as the local API does (PATRONUS_UNIT_PREFIX).
        unit_prefix = Settings.from_env(os.environ).units.prefix
        frontend = Frontend.create(args.port, data_dir, s3.endpoint, unit_prefix)
        server = ThreadingHTTPServer(
            ("127.0.0.1", args.port), _make_handler(frontend, app_origins(args.port))
        )
        stack = Stack(
            f"http://127.0.0.1:{args.port}", s3.endpoint, db_url, BUCKET, data_dir, scanning, expiry_minutes
        )
        _print_banner(stack)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        log.info("Stopping ...")
        return 0
    except OSError as exc:
        log.error("Cannot start the local stack: %s", exc)
        return 1
    finally:
        for stopper in reversed(stoppers):
            stopper.stop()


def _database(data_dir: Path, stoppers: list[Any]) -> str:
    configured = os.environ.get("PATRONUS_DB_URL")
    if configured:
        parts = urlsplit(configured)
        name = parts.path.strip("/") or "patronus"
        log.info(
            "Using the database server named by PATRONUS_DB_URL (%s:%s)", parts.hostname, parts.port or 3306
        )
        return ensure_database(with_database(configured, ""), name)
    log.info("Starting a private MariaDB server (data in %s) ...", data_dir / "mariadb")
    saved = _saved_ports(data_dir).get("mariadb", 33306)
    server = ThrowawayMariaDB(data_dir / "mariadb", port=int(saved)).start()
    stoppers.append(server)
    _save_ports(data_dir, {"mariadb": server.port})
    return ensure_database(server.url, "patronus")


def _saved_ports(data_dir: Path) -> dict[str, Any]:
    """Ports chosen on an earlier start, reused so that URLs stay the same across restarts."""
    path = data_dir / "ports.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def _save_ports(data_dir: Path, ports: dict[str, Any]) -> None:
    (data_dir / "ports.json").write_text(json.dumps({**_saved_ports(data_dir), **ports}, indent=2))


def _prepare_bucket(s3: ThrowawaySeaweedFS, origins: tuple[str, ...]) -> None:
    """The documents bucket, versioned like in AWS, with CORS for browser uploads from the web
    application's origins (named one by one: SeaweedFS does not match a wildcard port)."""
    client = s3.client()
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if BUCKET not in existing:
        client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_cors(
        Bucket=BUCKET,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": list(origins),
                    "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )


def _configure_environment(db_url: str, s3: ThrowawaySeaweedFS, *, show_metrics: bool = False) -> None:
    os.environ.update(
        {
            "PATRONUS_ENVIRONMENT": "local",
            "PATRONUS_DB_URL": db_url,
            "PATRONUS_BUCKET": BUCKET,
            "PATRONUS_S3_ENDPOINT_URL": s3.endpoint,
            "PATRONUS_REGION": "eu-west-3",
            "AWS_ACCESS_KEY_ID": s3.access_key,
            "AWS_SECRET_ACCESS_KEY": s3.secret_key,
            "AWS_DEFAULT_REGION": "eu-west-3",
        }
    )
    # On by default so that uploads go through "scanning" as in production (the local scanner
    # detects the EICAR test file only).
    os.environ.setdefault("PATRONUS_MALWARE_SCANNING", "true")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "patronus-local")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # Metrics are quiet locally unless asked for (patronus.observability: off means silent).
    if show_metrics:
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


# The unit of the demo dossiers (sign in with this unit group to see them).
DEMO_UNIT = "unit-a"


def _seed(db_url: str) -> None:
    from patronus.db import Database
    from patronus.models import Principal
    from patronus.repositories.dossiers import SearchFilter
    from patronus.services.dossiers import DossierService
    from patronus.settings import DatabaseSettings

    service = DossierService(Database(DatabaseSettings.from_url(db_url)))
    seeder = Principal(subject="demo-seed", groups=frozenset({"editors"}), units=frozenset({DEMO_UNIT}))
    try:
        existing, _ = service.search(seeder, SearchFilter(), limit=1)
        if existing:
            return
        for reference, title in (
            ("DEMO-0001", "Bail commercial — 12 rue de la Paix"),
            ("DEMO-0002", "Contrat fournisseur Lumière SA"),
            ("DEMO-0003", "Sinistre dégât des eaux, entrepôt de Lyon"),
        ):
            service.create(
                seeder, reference=reference, title=title, description="Demo data", idempotency_key=None
            )
        log.info("  seeded 3 demo dossiers in %s", DEMO_UNIT)
    finally:
        service.db.close()


def _start_event_relay(s3: ThrowawaySeaweedFS, *, scanning: bool) -> Any:
    """S3 "Object Created" events to document_events; where scanning is on, each upload's
    scan-result event from the local scanner next, as GuardDuty would publish it."""
    from patronus_document_events import handler as events_handler
    from scripts.devstack.s3events import ObjectCreatedRelay
    from scripts.devstack.scanner import LocalScanner

    scanner = LocalScanner(s3.client(), BUCKET) if scanning else None

    def invoke(event: dict[str, Any]) -> None:
        try:
            events_handler.handler(event, LambdaContext(function_name="patronus-document-events-local"))
        except Exception:  # EventBridge would retry; locally the /complete call is the fallback
            log.exception("document_events failed for the %s event %s", event["detail-type"], event["id"])

    def deliver(event: dict[str, Any]) -> None:
        invoke(event)
        created = event["detail"]["object"]
        if scanner is not None and scanner.covers(created["key"]):
            invoke(
                scanner.scan(created["key"], version_id=created.get("version-id"), etag=created.get("etag"))
            )

    return ObjectCreatedRelay(s3.filer_address, BUCKET, deliver).start()


def _start_upload_expiry(minutes: int) -> Any:
    """The upload_expiry function on a local schedule, with the event its EventBridge schedule
    sends (events/upload-expiry-scheduled.json)."""
    from patronus_upload_expiry import handler as expiry_handler
    from scripts.devstack.schedule import LocalSchedule

    scheduled = json.loads((EVENTS / "upload-expiry-scheduled.json").read_text())

    def run() -> None:
        report = expiry_handler.handler(
            scheduled, LambdaContext(function_name="patronus-upload-expiry-local")
        )
        if any(report.values()):
            log.info("Upload expiry: %s", report)

    return LocalSchedule("upload expiry", minutes * 60, run).start()


def _make_handler(frontend: Frontend, origins: tuple[str, ...]) -> type[BaseHTTPRequestHandler]:
    from patronus_api import handler as api_handler
    from patronus_api.route_table import cors_methods, routes

    api_routes = routes()  # its public routes need no token, as in API Gateway
    methods = cors_methods(api_routes)
    invoke_lock = threading.Lock()  # one execution environment: one event at a time, as in Lambda

    class GatewayHandler(BaseHTTPRequestHandler):
        server_version = "PatronusLocalGateway/1.0"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), format % args)

        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Too Long"})
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else None
            own = frontend.reply(self.command, url.path, url.query, body or b"")
            if own is not None:
                _write_reply(self, own)
                return
            if is_preflight(
                self.command, dict(self.headers.items())
            ):  # answered by API Gateway, with no token
                origin = self.headers.get("Origin", "")
                _write_reply(
                    self,
                    Reply(HTTPStatus.NO_CONTENT, tuple(preflight_headers(origin, origins, methods)), b""),
                )
                return
            claims = None
            if needs_token(api_routes, self.command, url.path):
                claims = frontend.claims(self.headers.get("Authorization", ""))
                if claims is None:
                    self._send(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"})
                    return
            _write_result(self, self._invoke(url.path, url.query, body, claims))

        def _invoke(
            self, path: str, query: str, body: bytes | None, claims: dict[str, str] | None
        ) -> dict[str, Any]:
            event = rest_event(
                self.command,
                path,
                query=parse_qs(query, keep_blank_values=True),
                headers={k: v for k, v in self.headers.items()},
                body=body,
                claims=claims,
                source_ip=self.client_address[0],
            )
            with invoke_lock:
                return invoke(api_handler.handler, event, LambdaContext())

        def _send(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    return GatewayHandler


def _write_result(request: BaseHTTPRequestHandler, result: dict[str, Any]) -> None:
    """Send the handler's proxy-integration result as the HTTP response."""
    status, headers, data = response_parts(result)
    _write_reply(request, Reply(status, tuple(headers), data))


def _write_reply(request: BaseHTTPRequestHandler, reply: Reply) -> None:
    status, headers, data = reply.status, reply.headers, reply.body
    request.send_response(status)
    for name, value in headers:
        if name.lower() not in {"content-length", "connection"}:
            request.send_header(name, value)
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(data)


def banner(stack: Stack) -> str:
    """What `make run` prints once the stack is up: the addresses, then the walkthrough."""
    api = stack.api_url
    exports = []
    if urlsplit(api).port != DEFAULT_PORT:
        exports.append(f"export PATRONUS_PORT={urlsplit(api).port}")
    if stack.data_dir.resolve() != DEFAULT_DATA_DIR.resolve():
        exports.append(f"export PATRONUS_DATA_DIR={shlex.quote(str(stack.data_dir))}")
    after = f", after `{'; '.join(exports)}`" if exports else ""
    return f"""
Patronus is running locally.
  Application    {api}/      (sign in as anyone: the local sign-in page asks who you are)
  API            {api}/v1    (health: {api}/health)
  API docs       {api}/docs  (OpenAPI: {api}/openapi.json)
  S3 (SeaweedFS) {stack.s3_endpoint}  bucket {stack.bucket}
  Database       {_redact(stack.db_url)}
  Data folder    {stack.data_dir}
  Malware scan   {_scanning_line(stack.malware_scanning)}
  Upload expiry  {_expiry_line(stack.upload_expiry_minutes)}

Walkthrough: paste this in another shell, from the repository folder{after}.
It stops at the first error, and can be run again (each run creates its own dossier):

{WALKTHROUGH.read_text()}
Press Ctrl-C to stop.
"""


def _scanning_line(scanning: bool) -> str:
    if not scanning:
        return "off (uploads are available at once)"
    return "on: uploads are scanning, then available; the local scanner detects the EICAR test file only"


def _expiry_line(minutes: int | None) -> str:
    if minutes is None:
        return "not scheduled"
    return f"every {minutes} min: pending uploads older than the configured age become expired"


def _print_banner(stack: Stack) -> None:
    sys.stdout.write(banner(stack))
    sys.stdout.flush()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


if __name__ == "__main__":
    raise SystemExit(main())
