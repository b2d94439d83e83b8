"""scripts/smoke_test.py against Cognito and Secrets Manager in moto and an API on 127.0.0.1.

The stand-in API plays API Gateway's part: it verifies the ID token's signature against the
user pool's keys (moto signs its tokens with a published key set), its issuer, audience and use,
and lets only members of ``readers`` in, as the Cognito authorizer and the API's roles do.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from moto import mock_aws

from patronus_smoke_user.totp import totp
from patronus_smoke_user.user import SmokeTestUser
from scripts import smoke_test

REGION = "eu-west-3"
USERNAME = "smoke-test@dev.patronus.invalid"
PASSWORD = "Initial-Passw0rd!-long-enough"
# The public half of the key set moto signs its Cognito tokens with.
JWKS_FILE = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-public.json.gz"
JWKS = json.loads(gzip.decompress(JWKS_FILE.read_bytes()))


@dataclass
class StandInApi:
    """What the API answers, and what it saw."""

    issuer: str = ""
    audience: str = ""
    health_status: int = 200
    open_to_anonymous: bool = False
    seen_groups: list[list[str]] = field(default_factory=list)
    url: str = ""

    def authorize(self, header: str | None) -> int:
        if self.open_to_anonymous:
            return 200
        if not header or not header.startswith("Bearer "):
            return 401
        try:
            token = jwt.decode(header.removeprefix("Bearer "), KeySet.import_key_set(JWKS))
        except Exception:
            return 401
        claims = token.claims
        expected = {"iss": self.issuer, "aud": self.audience, "token_use": "id"}
        if any(claims.get(name) != value for name, value in expected.items()):
            return 401
        groups = list(claims.get("cognito:groups", []))
        self.seen_groups.append(groups)
        return 200 if "readers" in groups else 403


@pytest.fixture
def api() -> Iterator[StandInApi]:
    state = StandInApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body: dict[str, Any]
            if self.path == "/prod/health":
                status, body = state.health_status, {"status": "ok" if state.health_status == 200 else "down"}
            elif self.path.startswith("/prod/v1/dossiers"):
                status = state.authorize(self.headers.get("Authorization"))
                body = {"items": [], "next_cursor": None} if status == 200 else {"message": "Unauthorized"}
            else:
                status, body = 404, {"message": "not found"}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/prod/"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Environment:
    pool_id: str
    client_id: str
    secret_arn: str
    role_arn: str
    cognito: Any
    secrets: Any


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, api: StandInApi) -> Iterator[Environment]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        pool = cognito.create_user_pool(
            PoolName="patronus-dev",
            UsernameAttributes=["email"],
            MfaConfiguration="OPTIONAL",
        )["UserPool"]
        for group in ("readers", "editors", "admins"):
            cognito.create_group(UserPoolId=pool["Id"], GroupName=group)
        client = cognito.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="smoke-test",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]
        secret = secrets.create_secret(
            Name="SmokeTestCredentials", SecretString=json.dumps({"username": USERNAME, "password": PASSWORD})
        )
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="patronus-dev-smoke-test", AssumeRolePolicyDocument=json.dumps({"Statement": []})
        )["Role"]
        api.issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"
        api.audience = client["ClientId"]
        yield Environment(pool["Id"], client["ClientId"], secret["ARN"], role["Arn"], cognito, secrets)


def run(env: Environment, api: StandInApi, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "smoke.json"
    code = smoke_test.main(
        [
            "--api-url",
            api.url,
            "--user-pool-id",
            env.pool_id,
            "--client-id",
            env.client_id,
            "--secret-id",
            env.secret_arn,
            "--role-arn",
            env.role_arn,
            "--region",
            REGION,
            "--attempts",
            "2",
            "--retry-delay",
            "0",
            "--report",
            str(report),
            *extra,
        ]
    )
    return code, json.loads(report.read_text())


def deploy(env: Environment) -> SmokeTestUser:
    """What the deployment's custom resource does: bring the user in step with its secret."""
    user = SmokeTestUser(env.cognito, env.secrets, env.pool_id, env.client_id, env.secret_arn, "readers")
    user.ensure()
    return user


def checks(report: dict[str, Any]) -> dict[str, bool]:
    return {check["name"]: check["ok"] for check in report["checks"]}


def test_after_the_deployment_the_smoke_test_signs_in_as_the_reader_and_passes(
    aws: Environment, api: StandInApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a deployment that created the smoke-test user from its secret
    deploy(aws)
    # When the smoke test runs
    code, report = run(aws, api, tmp_path)
    # Then every check passed and the API saw a reader's token
    assert code == 0, report
    assert checks(report) == {"health": True, "anonymous": True, "sign_in": True, "authenticated": True}
    assert api.seen_groups == [["readers"]]
    assert "All checks passed." in capsys.readouterr().out


def test_a_missing_user_fails_the_sign_in_and_is_not_created_by_the_smoke_test(
    aws: Environment, api: StandInApi, tmp_path: Path
) -> None:
    # Given an environment whose smoke-test user does not exist
    # When the smoke test runs
    code, report = run(aws, api, tmp_path)
    # Then sign-in fails, says how to repair, and the smoke test created nobody
    assert code == 1
    (sign_in,) = [c for c in report["checks"] if c["name"] == "sign_in"]
    assert not sign_in["ok"] and "SmokeTestUserFunctionName" in sign_in["detail"]
    assert aws.cognito.list_users(UserPoolId=aws.pool_id)["Users"] == []


def test_a_password_changed_in_the_secret_only_fails_until_the_user_is_repaired(
    aws: Environment, api: StandInApi, tmp_path: Path
) -> None:
    # Given a deployed user whose secret then got a new password by hand
    deploy(aws)
    rotated = "Rotated-Passw0rd!-long-enough"
    aws.secrets.put_secret_value(
        SecretId=aws.secret_arn, SecretString=json.dumps({"username": USERNAME, "password": rotated})
    )
    # When the smoke test runs, Then it fails: it sets no password
    assert run(aws, api, tmp_path)[0] == 1
    # And once the function repaired the user, it passes
    deploy(aws)
    code, report = run(aws, api, tmp_path)
    assert code == 0, report


def test_a_user_with_a_totp_device_answers_the_mfa_challenge(
    aws: Environment, api: StandInApi, tmp_path: Path
) -> None:
    # Given a smoke-test user with a verified TOTP device whose seed is in the secret
    deploy(aws)
    access = aws.cognito.admin_initiate_auth(
        UserPoolId=aws.pool_id,
        ClientId=aws.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": USERNAME, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    seed = aws.cognito.associate_software_token(AccessToken=access)["SecretCode"]
    aws.cognito.verify_software_token(AccessToken=access, UserCode=totp(seed))
    aws.cognito.admin_set_user_mfa_preference(
        UserPoolId=aws.pool_id,
        Username=USERNAME,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    aws.secrets.put_secret_value(
        SecretId=aws.secret_arn,
        SecretString=json.dumps({"username": USERNAME, "password": PASSWORD, "totp_secret": seed}),
    )
    # When the smoke test runs
    code, report = run(aws, api, tmp_path)
    # Then it answered the SOFTWARE_TOKEN_MFA challenge with a code the service accepted
    assert code == 0, report
    # And without the seed in the secret, the run fails and says what to do
    aws.secrets.put_secret_value(
        SecretId=aws.secret_arn, SecretString=json.dumps({"username": USERNAME, "password": PASSWORD})
    )
    code, report = run(aws, api, tmp_path)
    assert code == 1
    (sign_in,) = [c for c in report["checks"] if c["name"] == "sign_in"]
    assert "totp_secret" in sign_in["detail"] and "SmokeTestUserFunctionName" in sign_in["detail"]


def test_an_unhealthy_api_fails_the_run_and_stops_there(
    aws: Environment, api: StandInApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an API whose /health answers 503
    api.health_status = 503
    # When the smoke test runs
    code, report = run(aws, api, tmp_path)
    # Then it fails on health, after the configured attempts, and signs nobody in
    assert code == 1
    assert checks(report) == {"health": False}
    assert "after 2 attempts" in report["checks"][0]["detail"]
    assert "The smoke test FAILED." in capsys.readouterr().out


def test_an_api_open_to_anonymous_callers_fails_the_run(
    aws: Environment, api: StandInApi, tmp_path: Path
) -> None:
    # Given an API whose authenticated route lets a caller without a token in
    api.open_to_anonymous = True
    # When the smoke test runs
    code, report = run(aws, api, tmp_path)
    # Then the anonymous check fails, and so does the run
    assert code == 1
    assert checks(report)["anonymous"] is False


def test_dry_run_reads_the_secret_and_signs_nobody_in(
    aws: Environment, api: StandInApi, tmp_path: Path
) -> None:
    # Given an environment without the smoke-test user
    # When the smoke test runs with --dry-run
    code, report = run(aws, api, tmp_path, "--dry-run")
    # Then it checked health, the anonymous answer and the secret, and created nothing
    assert code == 0, report
    assert checks(report) == {"health": True, "anonymous": True, "sign_in (dry run)": True}
    assert f"would sign in as {USERNAME}" in report["checks"][-1]["detail"]
    assert aws.cognito.list_users(UserPoolId=aws.pool_id)["Users"] == []


def test_a_secret_without_a_password_is_a_configuration_error(
    aws: Environment, api: StandInApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a secret that lacks the password
    aws.secrets.put_secret_value(SecretId=aws.secret_arn, SecretString=json.dumps({"username": USERNAME}))
    # When the smoke test runs
    arguments = ["--api-url", api.url, "--user-pool-id", aws.pool_id, "--client-id", aws.client_id]
    code = smoke_test.main([*arguments, "--secret-id", aws.secret_arn, "--region", REGION])
    # Then it exits 2 with a message naming what is missing, and no traceback
    assert code == 2
    err = capsys.readouterr().err
    assert "needs the keys 'username' and 'password'" in err and "Traceback" not in err


def test_a_url_that_is_not_http_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    # When the smoke test is given a URL without a scheme
    with pytest.raises(SystemExit) as exit_info:
        smoke_test.main(
            [
                *("--api-url", "abc123.execute-api.eu-west-3.amazonaws.com/prod"),
                *("--user-pool-id", "p", "--client-id", "c", "--secret-id", "s"),
            ]
        )
    # Then it exits 2 and names the option
    assert exit_info.value.code == 2
    assert "--api-url: not an http(s) URL" in capsys.readouterr().err
