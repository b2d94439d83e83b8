"""The engine of smoke_test: check a deployed Patronus environment through its API and its web origin.

Checks, in order: ``health`` (``GET /health`` answers 200 ``status: ok``, retried while a fresh
version cold-starts), ``anonymous`` (the authenticated route refuses a caller without a token),
with a web URL (CloudFront) ``web_page``, ``web_deep_link``, ``web_config`` and ``web_api`` (the
application's page, a deep link, its ``config.json`` and ``/health`` through the one origin, each
answer with the security headers),
``sign_in`` (the smoke-test user signs in with the admin password flow of its own app client and
the credentials of its Secrets Manager secret, with TOTP where MFA is required) and
``authenticated`` (the route answers 200 with a JSON body to its ID token).

The user is created and repaired at deployment (``functions/smoke_user``, a custom resource of the
api stack), never here: the smoke-test role may read the secret and sign in, nothing more. A
sign-in that fails says how to repair the user.

Only boto3 and the standard library are used (the pipeline installs nothing else); boto3 is
imported when AWS is first called. The TOTP code comes from the deployment function's own module.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scripts.operator_tools import toolkit

# The one TOTP implementation and the secret's reading live with the function that enrols the
# device and keeps the user in step with the secret.
_SMOKE_USER_CODE = str(Path(__file__).resolve().parents[2] / "functions" / "smoke_user")
if _SMOKE_USER_CODE not in sys.path:
    sys.path.append(_SMOKE_USER_CODE)

from patronus_smoke_user import user  # noqa: E402
from patronus_smoke_user.totp import totp  # noqa: E402
from patronus_smoke_user.user import Credentials, error_code  # noqa: E402

DEFAULT_PATH = "/v1/dossiers?limit=1"
DEFAULT_REGION = "eu-west-3"
SESSION_NAME = "patronus-smoke-test"
USER_AGENT = "patronus-smoke-test/1"  # recognisable in the access logs
HTTP_TIMEOUT_SECONDS = 30
# What to do when the user cannot sign in: the deployment's function repairs it.
REPAIR_HINT = (
    "invoke the api stack's smoke-test user function (output SmokeTestUserFunctionName) to repair "
    "the user from its secret, then rerun (docs/operations.md)"
)


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
    web_url: str | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


# -- HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def http_fetch(url: str, *, accept: str = "application/json", token: str | None = None) -> Answer:
    """``GET url`` (optionally with a bearer token): status, headers and body, errors included."""
    headers = {"Accept": accept, "User-Agent": USER_AGENT}
    request = urllib.request.Request(url, method="GET", headers=headers)  # noqa: S310
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            status, raw, received = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, received = exc.code, exc.read(), exc.headers
    return Answer(status, {name.lower(): value for name, value in received.items()}, raw)


def http_get(url: str, token: str | None = None) -> tuple[int, Any]:
    """``GET url`` (optionally with a bearer token): the status and the JSON body (or text)."""
    answer = http_fetch(url, token=token)
    status, text = answer.status, answer.text
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


def endpoint(api_url: str, path: str) -> str:
    return api_url.rstrip("/") + "/" + path.lstrip("/")


# -- Cognito ----------------------------------------------------------------------------------


def read_credentials(secrets: Any, secret_id: str) -> Credentials:
    """The smoke-test user's credentials from its secret, read as the function that keeps the
    user in step with it reads them; a malformed secret is the operator's error."""
    try:
        return user.read_credentials(secrets, secret_id)
    except user.RepairFailed as exc:
        raise toolkit.ToolError(str(exc)) from exc


class SmokeUser:
    """Sign in as the smoke-test user with the credentials of its secret."""

    def __init__(
        self, cognito: Any, secrets: Any, *, user_pool_id: str, client_id: str, secret_id: str
    ) -> None:
        self.cognito = cognito
        self.secrets = secrets
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.secret_id = secret_id

    def id_token(self) -> str:
        credentials = read_credentials(self.secrets, self.secret_id)
        try:
            result: dict[str, Any] = self.cognito.admin_initiate_auth(
                UserPoolId=self.user_pool_id,
                ClientId=self.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": credentials.username, "PASSWORD": credentials.password},
            )
        except Exception as exc:
            if error_code(exc) in {"UserNotFoundException", "NotAuthorizedException"}:
                raise CheckFailed(
                    f"Cognito refused the secret's credentials ({error_code(exc)}): {REPAIR_HINT}"
                ) from exc
            raise
        return self._complete(result, credentials)

    def _complete(self, result: dict[str, Any], credentials: Credentials) -> str:
        tokens = result.get("AuthenticationResult")
        if tokens:
            return str(tokens["IdToken"])
        challenge = result.get("ChallengeName")
        if challenge != "SOFTWARE_TOKEN_MFA":
            raise CheckFailed(f"sign-in stopped at the challenge {challenge}: {REPAIR_HINT}")
        if not credentials.totp_secret:
            raise CheckFailed(
                f"the user has a TOTP device but the secret holds no totp_secret: {REPAIR_HINT}"
            )
        try:
            answered: dict[str, Any] = self.cognito.admin_respond_to_auth_challenge(
                UserPoolId=self.user_pool_id,
                ClientId=self.client_id,
                ChallengeName=challenge,
                Session=str(result.get("Session", "")),
                ChallengeResponses={
                    "USERNAME": credentials.username,
                    "SOFTWARE_TOKEN_MFA_CODE": totp(credentials.totp_secret),
                },
            )
        except Exception as exc:
            if error_code(exc) == "CodeMismatchException":
                raise CheckFailed(
                    f"Cognito refused the TOTP code of the secret's seed: {REPAIR_HINT}"
                ) from exc
            raise
        tokens = answered.get("AuthenticationResult")
        if not tokens:
            raise CheckFailed(f"sign-in did not complete after the MFA challenge: {REPAIR_HINT}")
        return str(tokens["IdToken"])


# -- the run ----------------------------------------------------------------------------------


def timed(report: Report, name: str, check: Callable[[], tuple[int | None, str]]) -> bool:
    """Run one check, record it in the report; a failure is recorded, not raised."""
    started = time.monotonic()
    try:
        status, detail = check()
        ok = True
    except CheckFailed as exc:
        status, detail, ok = None, str(exc), False
    except toolkit.ToolError:
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


# -- the web origin (CloudFront) ---------------------------------------------------------------

ONE_YEAR_SECONDS = 365 * 24 * 3600
# A path of the application that is no file: CloudFront must answer it with the application.
DEEP_LINK = "dossiers/smoke-test-deep-link"


def _directives(policy: str) -> dict[str, str]:
    """A Content-Security-Policy by directive name: ``{"script-src": "'self'", ...}``."""
    parts = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {words[0].lower(): (words[1] if len(words) > 1 else "") for words in parts}


def security_header_problems(answer: Answer, *, https: bool) -> list[str]:
    """What the answer lacks of the security headers every answer of the web origin carries."""
    headers, problems = answer.headers, []
    csp = _directives(headers.get("content-security-policy", ""))
    if not csp:
        problems.append("no Content-Security-Policy")
    elif csp.get("script-src") != "'self'":
        problems.append(
            f"Content-Security-Policy script-src is {csp.get('script-src')!r}, expected 'self' only"
        )
    if csp and csp.get("frame-ancestors") != "'none'":
        problems.append("Content-Security-Policy does not forbid framing (frame-ancestors 'none')")
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not headers.get("referrer-policy"):
        problems.append("no Referrer-Policy")
    if https:
        hsts = _directives(headers.get("strict-transport-security", "").replace("=", " "))
        age = hsts.get("max-age", "")
        if not age.isdigit() or int(age) < ONE_YEAR_SECONDS:
            problems.append("no Strict-Transport-Security with a max-age of a year or more")
    return problems


def web_answer(url: str, *, accept: str, kind: str) -> Answer:
    """``GET url`` on the web origin: 200, of content type ``kind``, with the security headers."""
    answer = http_fetch(url, accept=accept)
    if answer.status != 200:
        raise CheckFailed(f"{url} answered {answer.status}: {answer.text[:200]}")
    content_type = answer.headers.get("content-type", "")
    if not content_type.startswith(kind):
        raise CheckFailed(f"{url} answered {content_type or 'no content type'}, expected {kind}")
    problems = security_header_problems(answer, https=url.startswith("https://"))
    if problems:
        raise CheckFailed(f"{url}: " + "; ".join(problems))
    return answer


def check_web_page(url: str) -> tuple[int | None, str]:
    answer = web_answer(url, accept="text/html", kind="text/html")
    if 'id="root"' not in answer.text:
        raise CheckFailed(f"{url} is not the application's page (no root element): {answer.text[:200]}")
    return answer.status, "the application's page, with its security headers"


def check_web_config(url: str) -> tuple[int | None, str]:
    answer = web_answer(url, accept="application/json", kind="application/json")
    try:
        config = json.loads(answer.text)
    except ValueError as exc:
        raise CheckFailed(f"{url} is not JSON") from exc
    if not isinstance(config, dict) or not config.get("client_id") or not config.get("authority"):
        raise CheckFailed(f"{url} lacks the sign-in settings (authority, client_id): {answer.text[:200]}")
    authority = str(config["authority"])
    if not authority.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise CheckFailed(f"{url}: the authority {authority!r} is not an https URL")
    return answer.status, f"sign-in at {authority}, client {config['client_id']}"


def check_web_api(url: str) -> tuple[int | None, str]:
    answer = web_answer(url, accept="application/json", kind="application/json")
    body = json.loads(answer.text)
    if not isinstance(body, dict) or body.get("status") != "ok":
        raise CheckFailed(f"{url} answered {answer.text[:200]}")
    return answer.status, "the API answers on the application's origin"


def web_checks(web_url: str) -> list[tuple[str, Callable[[], tuple[int | None, str]]]]:
    """The checks of the web origin, by name: page, deep link, config.json, the API's /health."""
    return [
        ("web_page", lambda: check_web_page(endpoint(web_url, "/"))),
        ("web_deep_link", lambda: check_web_page(endpoint(web_url, DEEP_LINK))),
        ("web_config", lambda: check_web_config(endpoint(web_url, "/config.json"))),
        ("web_api", lambda: check_web_api(endpoint(web_url, "/health"))),
    ]


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


@dataclass(frozen=True)
class SmokeSettings:
    api_url: str
    user_pool_id: str
    client_id: str
    secret_id: str
    role_arn: str | None = None
    region: str = DEFAULT_REGION
    path: str = DEFAULT_PATH
    attempts: int = 6
    retry_delay: float = 5.0
    dry_run: bool = False
    # The web application's URL (CloudFront); none: the API alone is checked.
    web_url: str | None = None


class SmokeTest:
    """One run of the checks; a failed check is recorded in the report, not raised."""

    def __init__(self, settings: SmokeSettings) -> None:
        self.settings = settings
        self.report = Report(
            api_url=settings.api_url, path=settings.path, dry_run=settings.dry_run, web_url=settings.web_url
        )
        self.route = endpoint(settings.api_url, settings.path)
        self.token = ""

    def run(self) -> Report:
        settings, report = self.settings, self.report
        if not timed(
            report, "health", lambda: check_health(settings.api_url, settings.attempts, settings.retry_delay)
        ):
            return report
        timed(report, "anonymous", lambda: check_anonymous(self.route))
        for name, check in web_checks(settings.web_url) if settings.web_url else []:
            timed(report, name, check)
        if settings.dry_run:
            timed(report, "sign_in (dry run)", self.plan_sign_in)
            return report
        if timed(report, "sign_in", self.sign_in):
            timed(report, "authenticated", lambda: check_authenticated(self.route, self.token))
        return report

    def check_health(self) -> tuple[int | None, str]:
        settings = self.settings
        return check_health(settings.api_url, settings.attempts, settings.retry_delay)

    def smoke_user(self) -> SmokeUser:
        """Made inside a check: a refused role or missing credentials is a failed check."""
        settings = self.settings
        session = aws_session(settings.region, settings.role_arn)
        user = SmokeUser(
            session.client("cognito-idp"),
            session.client("secretsmanager"),
            user_pool_id=settings.user_pool_id,
            client_id=settings.client_id,
            secret_id=settings.secret_id,
        )
        return user

    def plan_sign_in(self) -> tuple[int | None, str]:
        user = self.smoke_user()
        credentials = read_credentials(user.secrets, self.settings.secret_id)
        mfa = " with its TOTP seed" if credentials.totp_secret else ""
        return None, f"the secret is readable; a real run would sign in as {credentials.username}{mfa}"

    def sign_in(self) -> tuple[int | None, str]:
        self.token = self.smoke_user().id_token()
        return None, "signed in as the smoke-test user"


def summary(report: Report) -> str:
    web = f" and {report.web_url}" if report.web_url else ""
    lines = [f"Smoke test of {report.api_url}{web}{' (dry run)' if report.dry_run else ''}"]
    for check in report.checks:
        verdict = "PASS" if check.ok else "FAIL"
        status = f" HTTP {check.status}" if check.status is not None else ""
        lines.append(f"  {verdict}  {check.name}{status}: {check.detail} ({check.seconds:.2f} s)")
    lines.append("All checks passed." if report.ok else "The smoke test FAILED.")
    return "\n".join(lines)
