#!/usr/bin/env python3
"""Smoke test of a deployed Patronus environment: /health, then one authenticated route.

The delivery pipeline runs it after each environment's deployment, with the api stack's
outputs; an operator can run it by hand after a deployment or a rollback::

    python scripts/smoke_test.py --api-url https://abc123.execute-api.eu-west-3.amazonaws.com/prod/ \\
        --user-pool-id eu-west-3_AbCdEf --client-id 1a2b3c... \\
        --secret-id arn:aws:secretsmanager:...:secret:SmokeTestCredentials... \\
        [--role-arn arn:aws:iam::123456789012:role/patronus-prod-smoke-test] [--report smoke.json]

Checks, in order:

1. ``health``: ``GET /health`` answers 200 with ``status: ok`` (the function runs and the
   database answers). Retried for a minute: a fresh version cold-starts, Aurora may be scaling.
2. ``anonymous``: the authenticated route without a token answers 401 (the authorizer is on).
3. ``sign_in``: the smoke-test user signs in with the admin password flow of its own app client.
   Its credentials are in the Secrets Manager secret (``username``, ``password`` and, where MFA
   is required, ``totp_secret``). When sign-in fails because the user is missing or its password
   differs from the secret, the user is created (group ``readers``, no invitation e-mail) or its
   password set from the secret, then sign-in is retried; where MFA is required the TOTP device
   is enrolled on first sign-in and its seed written back to the secret.
4. ``authenticated``: the route (``--path``, default ``/v1/dossiers?limit=1``) with the ID token
   answers 200 with a JSON body.

Only boto3 and the standard library are needed (the pipeline installs nothing else). Exit
status: 0 when every check passes, 1 when one fails, 2 for a usage or configuration error. A JSON
report (``--report``) and a readable summary are written either way. ``--dry-run`` changes
nothing: it checks ``/health`` and the anonymous answer, and says what sign-in would repair.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PATH = "/v1/dossiers?limit=1"
DEFAULT_REGION = "eu-west-3"
SMOKE_TEST_GROUP = "readers"
SESSION_NAME = "patronus-smoke-test"
USER_AGENT = "patronus-smoke-test/1"  # recognisable in the access logs
HTTP_TIMEOUT_SECONDS = 30
TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
# Cognito answers sign-in failures of these kinds by a repair: create the user or set its password.
REPAIRABLE = {"UserNotFoundException", "NotAuthorizedException", "PasswordResetRequiredException"}


class UsageError(Exception):
    """Bad arguments or an unusable secret: exit status 2, a message, no traceback."""


class CheckFailed(Exception):
    """A check did not hold: exit status 1."""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float
    status: int | None = None


@dataclass
class Report:
    api_url: str
    path: str
    dry_run: bool
    checks: list[Check] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


# -- TOTP (RFC 6238, SHA-1, 30 s, 6 digits: what Cognito software tokens use) ------------------


def totp(secret: str, at: float | None = None, *, digits: int = TOTP_DIGITS) -> str:
    """The time-based one-time password of a base32 ``secret`` at time ``at`` (default: now)."""
    cleaned = secret.strip().replace(" ", "").upper()
    key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    counter = int((time.time() if at is None else at) // TOTP_STEP_SECONDS)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


# -- HTTP -------------------------------------------------------------------------------------


def http_get(url: str, token: str | None = None) -> tuple[int, Any]:
    """``GET url`` (optionally with a bearer token): the status and the JSON body (or text)."""
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    request = urllib.request.Request(url, method="GET", headers=headers)  # noqa: S310
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode("utf-8", errors="replace")
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


def endpoint(api_url: str, path: str) -> str:
    return api_url.rstrip("/") + "/" + path.lstrip("/")


# -- Cognito ----------------------------------------------------------------------------------


@dataclass
class Credentials:
    username: str
    password: str
    totp_secret: str | None
    raw: dict[str, Any]


def read_credentials(secrets: Any, secret_id: str) -> Credentials:
    value = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise UsageError(f"secret {secret_id}: not JSON") from exc
    if not isinstance(data, dict) or not data.get("username") or not data.get("password"):
        raise UsageError(f"secret {secret_id}: needs the keys 'username' and 'password'")
    return Credentials(str(data["username"]), str(data["password"]), data.get("totp_secret") or None, data)


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(exc).__name__))


class SmokeUser:
    """Sign in as the smoke-test user, creating or repairing it from its secret when needed."""

    def __init__(
        self, cognito: Any, secrets: Any, *, user_pool_id: str, client_id: str, secret_id: str
    ) -> None:
        self.cognito = cognito
        self.secrets = secrets
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.secret_id = secret_id
        self.actions: list[str] = []

    def exists(self, username: str) -> bool:
        try:
            self.cognito.admin_get_user(UserPoolId=self.user_pool_id, Username=username)
        except Exception as exc:
            if error_code(exc) == "UserNotFoundException":
                return False
            raise
        return True

    def repair(self, credentials: Credentials) -> None:
        """Create the user if missing, put it in its group, set its password from the secret."""
        pool, name = self.user_pool_id, credentials.username
        if not self.exists(name):
            self.cognito.admin_create_user(
                UserPoolId=pool,
                Username=name,
                UserAttributes=[
                    {"Name": "email", "Value": name},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
            self.actions.append(f"created the user {name}")
        self.cognito.admin_add_user_to_group(UserPoolId=pool, Username=name, GroupName=SMOKE_TEST_GROUP)
        self.cognito.admin_set_user_password(
            UserPoolId=pool, Username=name, Password=credentials.password, Permanent=True
        )
        self.actions.append(f"set the password of {name} from the secret (group {SMOKE_TEST_GROUP})")

    def _initiate(self, credentials: Credentials) -> dict[str, Any]:
        result: dict[str, Any] = self.cognito.admin_initiate_auth(
            UserPoolId=self.user_pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": credentials.username, "PASSWORD": credentials.password},
        )
        return result

    def id_token(self) -> str:
        credentials = read_credentials(self.secrets, self.secret_id)
        try:
            result = self._initiate(credentials)
        except Exception as exc:
            if error_code(exc) not in REPAIRABLE:
                raise
            self.repair(credentials)
            result = self._initiate(credentials)
        return self._complete(result, credentials)

    def _respond(self, challenge: str, session: str, responses: dict[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = self.cognito.admin_respond_to_auth_challenge(
            UserPoolId=self.user_pool_id,
            ClientId=self.client_id,
            ChallengeName=challenge,
            Session=session,
            ChallengeResponses=responses,
        )
        return result

    def _complete(self, result: dict[str, Any], credentials: Credentials) -> str:
        for _ in range(4):
            tokens = result.get("AuthenticationResult")
            if tokens:
                return str(tokens["IdToken"])
            challenge, session = result.get("ChallengeName"), str(result.get("Session", ""))
            user = {"USERNAME": credentials.username}
            if challenge == "SOFTWARE_TOKEN_MFA":
                if not credentials.totp_secret:
                    raise CheckFailed(
                        "the smoke-test user has a TOTP device but the secret holds no totp_secret: "
                        "delete the user in Cognito and rerun (docs/operations.md)"
                    )
                code = totp(credentials.totp_secret)
                result = self._respond(challenge, session, {**user, "SOFTWARE_TOKEN_MFA_CODE": code})
            elif challenge == "MFA_SETUP":
                result = self._enrol_totp(session, credentials)
            elif challenge == "NEW_PASSWORD_REQUIRED":
                result = self._respond(challenge, session, {**user, "NEW_PASSWORD": credentials.password})
            else:
                raise CheckFailed(f"sign-in stopped at an unexpected challenge: {challenge}")
        raise CheckFailed("sign-in did not complete after several challenges")

    def _enrol_totp(self, session: str, credentials: Credentials) -> dict[str, Any]:
        """First sign-in where MFA is required: enrol a TOTP device and keep its seed."""
        association = self.cognito.associate_software_token(Session=session)
        seed = str(association["SecretCode"])
        verified = self.cognito.verify_software_token(
            Session=association.get("Session", session), UserCode=totp(seed), FriendlyDeviceName="smoke-test"
        )
        if verified.get("Status") != "SUCCESS":
            raise CheckFailed("Cognito refused the TOTP code of the new device")
        self.secrets.put_secret_value(
            SecretId=self.secret_id, SecretString=json.dumps({**credentials.raw, "totp_secret": seed})
        )
        credentials.totp_secret = seed
        self.actions.append(
            "enrolled a TOTP device for the smoke-test user and stored its seed in the secret"
        )
        return self._respond("MFA_SETUP", str(verified["Session"]), {"USERNAME": credentials.username})


# -- the run ----------------------------------------------------------------------------------


def timed(report: Report, name: str, check: Callable[[], tuple[int | None, str]]) -> bool:
    """Run one check, record it in the report; a failure is recorded, not raised."""
    started = time.monotonic()
    try:
        status, detail = check()
        ok = True
    except CheckFailed as exc:
        status, detail, ok = None, str(exc), False
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 -- AWS and network errors become a failed check
        status, detail, ok = None, f"{error_code(exc)}: {exc}", False
    report.checks.append(Check(name, ok, detail, round(time.monotonic() - started, 3), status))
    return ok


def check_health(api_url: str, attempts: int, delay: float) -> tuple[int | None, str]:
    last = ""
    for attempt in range(1, attempts + 1):
        status, body = http_get(endpoint(api_url, "/health"))
        if status == 200 and isinstance(body, dict) and body.get("status") == "ok":
            return status, f"up, database {body.get('database', '?')} (attempt {attempt})"
        last = f"HTTP {status}: {str(body)[:200]}"
        if attempt < attempts:
            time.sleep(delay * attempt)
    raise CheckFailed(f"/health did not answer 200 ok after {attempts} attempts; last answer {last}")


def check_anonymous(url: str) -> tuple[int | None, str]:
    status, _ = http_get(url)
    if status != 401:
        raise CheckFailed(f"without a token the route answered {status}, expected 401 (authorizer off?)")
    return status, "refused without a token"


def check_authenticated(url: str, token: str) -> tuple[int | None, str]:
    status, body = http_get(url, token)
    if status >= 500:  # one retry: a version that just took the traffic may cold-start
        time.sleep(2)
        status, body = http_get(url, token)
    if status != 200 or not isinstance(body, dict | list):
        raise CheckFailed(f"with the smoke-test user's token the route answered {status}: {str(body)[:200]}")
    return status, "answered 200 with a JSON body"


def aws_session(region: str, role_arn: str | None) -> Any:
    import boto3

    session = boto3.Session(region_name=region)
    if not role_arn:
        return session
    assumed = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    return boto3.Session(
        region_name=region,
        aws_access_key_id=assumed["AccessKeyId"],
        aws_secret_access_key=assumed["SecretAccessKey"],
        aws_session_token=assumed["SessionToken"],
    )


def run(args: argparse.Namespace) -> Report:
    report = Report(api_url=args.api_url, path=args.path, dry_run=args.dry_run)
    route = endpoint(args.api_url, args.path)
    if not timed(report, "health", lambda: check_health(args.api_url, args.attempts, args.retry_delay)):
        return report
    timed(report, "anonymous", lambda: check_anonymous(route))
    users: list[SmokeUser] = []

    def smoke_user() -> SmokeUser:
        # Created inside a check: a refused role or missing credentials is a failed check.
        session = aws_session(args.region, args.role_arn)
        users.append(
            SmokeUser(
                session.client("cognito-idp"),
                session.client("secretsmanager"),
                user_pool_id=args.user_pool_id,
                client_id=args.client_id,
                secret_id=args.secret_id,
            )
        )
        return users[-1]

    if args.dry_run:

        def plan() -> tuple[int | None, str]:
            user = smoke_user()
            credentials = read_credentials(user.secrets, args.secret_id)
            if user.exists(credentials.username):
                return None, f"{credentials.username} exists; a failed sign-in would reset its password"
            return None, f"{credentials.username} is missing; a real run would create it"

        timed(report, "sign_in (dry run)", plan)
        return report
    token: list[str] = []

    def sign_in() -> tuple[int | None, str]:
        token.append(smoke_user().id_token())
        return None, "signed in as the smoke-test user"

    signed_in = timed(report, "sign_in", sign_in)
    for user in users:
        report.actions.extend(user.actions)
    if signed_in:
        timed(report, "authenticated", lambda: check_authenticated(route, token[0]))
    return report


def summary(report: Report) -> str:
    lines = [f"Smoke test of {report.api_url}{' (dry run)' if report.dry_run else ''}"]
    for check in report.checks:
        verdict = "PASS" if check.ok else "FAIL"
        status = f" HTTP {check.status}" if check.status is not None else ""
        lines.append(f"  {verdict}  {check.name}{status}: {check.detail} ({check.seconds:.2f} s)")
    lines.extend(f"  note  {action}" for action in report.actions)
    lines.append("All checks passed." if report.ok else "The smoke test FAILED.")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Smoke-test a deployed Patronus environment: /health, then one authenticated route.",
        epilog="Exit status: 0 all checks passed, 1 a check failed, 2 usage or configuration error.",
    )
    parser.add_argument("--api-url", required=True, help="base URL of the REST API (output ApiUrl)")
    parser.add_argument("--user-pool-id", required=True, help="Cognito user pool id (output UserPoolId)")
    parser.add_argument(
        "--client-id", required=True, help="smoke-test app client id (output SmokeTestClientId)"
    )
    parser.add_argument(
        "--secret-id", required=True, help="secret of the smoke-test user (output SmokeTestSecretArn)"
    )
    parser.add_argument(
        "--role-arn", help="role to assume first (output SmokeTestRoleArn); default: own credentials"
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument(
        "--path", default=DEFAULT_PATH, help=f"authenticated route to call (default {DEFAULT_PATH})"
    )
    parser.add_argument("--attempts", type=int, default=6, help="attempts of the /health check (default 6)")
    parser.add_argument(
        "--retry-delay", type=float, default=5.0, help="seconds between attempts, growing (default 5)"
    )
    parser.add_argument("--report", type=Path, help="write the JSON report to this file")
    parser.add_argument(
        "--dry-run", action="store_true", help="change nothing: health, anonymous answer, plan"
    )
    args = parser.parse_args(argv)
    url = urllib.parse.urlparse(args.api_url)
    if url.scheme not in {"http", "https"} or not url.netloc:
        parser.error(f"--api-url: not an http(s) URL: {args.api_url!r}")
    if not args.path.startswith("/"):
        parser.error(f"--path: must start with '/': {args.path!r}")
    if args.attempts < 1 or args.retry_delay < 0:
        parser.error("--attempts must be at least 1 and --retry-delay not negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = run(args)
    except UsageError as exc:
        print(f"smoke_test: {exc}", file=sys.stderr)
        return 2
    if args.report is not None:
        args.report.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    print(summary(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
