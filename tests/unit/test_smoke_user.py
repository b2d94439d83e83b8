"""The deployment's smoke-test user function (``functions/smoke_user``) against Cognito and
Secrets Manager in moto: create, repair, TOTP enrolment, the custom resource's events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from patronus_smoke_user import handler
from patronus_smoke_user.totp import totp
from patronus_smoke_user.user import RepairFailed, SmokeTestUser

REGION = "eu-west-3"
USERNAME = "smoke-test@dev.patronus.invalid"
PASSWORD = "Initial-Passw0rd!-long-enough"


@dataclass
class Pool:
    pool_id: str
    client_id: str
    secret_arn: str
    cognito: Any
    secrets: Any

    def user(self) -> SmokeTestUser:
        return SmokeTestUser(
            self.cognito, self.secrets, self.pool_id, self.client_id, self.secret_arn, "readers"
        )

    def groups(self) -> list[str]:
        listed = self.cognito.admin_list_groups_for_user(UserPoolId=self.pool_id, Username=USERNAME)
        return sorted(g["GroupName"] for g in listed["Groups"])

    def secret(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(
            self.secrets.get_secret_value(SecretId=self.secret_arn)["SecretString"]
        )
        return value

    def write_secret(self, **values: str) -> None:
        self.secrets.put_secret_value(SecretId=self.secret_arn, SecretString=json.dumps(values))

    def signs_in(self, password: str = PASSWORD) -> dict[str, Any]:
        result: dict[str, Any] = self.cognito.admin_initiate_auth(
            UserPoolId=self.pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": USERNAME, "PASSWORD": password},
        )
        return result


def _pool(mfa: str) -> Pool:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    extra: dict[str, Any] = {}
    pool = cognito.create_user_pool(PoolName="patronus-dev", UsernameAttributes=["email"], **extra)[
        "UserPool"
    ]
    if mfa == "ON":
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
        )
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
    return Pool(pool["Id"], client["ClientId"], secret["ARN"], cognito, secrets)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def pool(aws: None) -> Pool:
    return _pool("OPTIONAL")


def test_the_first_deployment_creates_the_reader_with_the_secret_password(pool: Pool) -> None:
    # Given a pool without the smoke-test user
    user = pool.user()
    # When the deployment ensures it
    assert user.ensure() == USERNAME
    # Then it exists in readers only, signs in with the secret's password, and no mail went out
    assert pool.groups() == ["readers"]
    assert "AuthenticationResult" in pool.signs_in()
    assert user.actions == [f"created {USERNAME}", f"added {USERNAME} to readers"]
    attributes = pool.cognito.admin_get_user(UserPoolId=pool.pool_id, Username=USERNAME)["UserAttributes"]
    assert {"Name": "email_verified", "Value": "true"} in attributes


def test_a_second_deployment_changes_nothing(pool: Pool) -> None:
    # Given a deployed user
    pool.user().ensure()
    # When the deployment runs again
    again = pool.user()
    again.ensure()
    # Then nothing was changed
    assert again.actions == []


def test_a_user_changed_by_hand_is_repaired(pool: Pool) -> None:
    # Given a deployed user that someone moved into admins, disabled, and whose secret got a new password
    pool.user().ensure()
    pool.cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=USERNAME, GroupName="admins")
    pool.cognito.admin_disable_user(UserPoolId=pool.pool_id, Username=USERNAME)
    rotated = "Rotated-Passw0rd!-long-enough"
    pool.write_secret(username=USERNAME, password=rotated)
    # When the function repairs it
    user = pool.user()
    user.ensure()
    # Then it is enabled, a reader only, and signs in with the new password
    assert pool.groups() == ["readers"]
    assert "AuthenticationResult" in pool.signs_in(rotated)
    assert user.actions == [
        f"enabled {USERNAME}",
        f"removed {USERNAME} from admins",
        f"set the password of {USERNAME} from the secret",
    ]


def test_where_mfa_is_required_a_totp_device_is_enrolled_and_its_seed_kept(aws: None) -> None:
    # Given a pool that requires MFA and a user waiting for its first sign-in (a temporary password)
    pool = _pool("ON")
    pool.cognito.admin_create_user(
        UserPoolId=pool.pool_id, Username=USERNAME, TemporaryPassword=PASSWORD, MessageAction="SUPPRESS"
    )
    # When the function repairs it
    user = pool.user()
    user.ensure()
    # Then a TOTP device was enrolled and its seed written to the secret, next to the password
    secret = pool.secret()
    assert secret["password"] == PASSWORD and secret["totp_secret"]
    assert any("enrolled a TOTP device" in action for action in user.actions)
    assert len(totp(secret["totp_secret"])) == 6


def test_a_device_that_no_longer_matches_the_secret_is_replaced(pool: Pool) -> None:
    # Given a deployed user with a verified TOTP device whose seed is not in the secret
    pool.user().ensure()
    access = pool.signs_in()["AuthenticationResult"]["AccessToken"]
    seed = pool.cognito.associate_software_token(AccessToken=access)["SecretCode"]
    pool.cognito.verify_software_token(AccessToken=access, UserCode=totp(seed))
    pool.cognito.admin_set_user_mfa_preference(
        UserPoolId=pool.pool_id,
        Username=USERNAME,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    assert pool.signs_in()["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    # When the function repairs it
    user = pool.user()
    user.ensure()
    # Then the user was deleted and created again, a reader that signs in
    assert user.actions[0].startswith(f"deleted {USERNAME}: its TOTP device did not match")
    assert f"created {USERNAME}" in user.actions
    assert pool.groups() == ["readers"]
    assert "AuthenticationResult" in pool.signs_in()


def test_the_mfa_challenge_is_answered_with_the_secret_seed(pool: Pool) -> None:
    # Given a deployed user with a TOTP device whose seed is in the secret
    pool.user().ensure()
    access = pool.signs_in()["AuthenticationResult"]["AccessToken"]
    seed = pool.cognito.associate_software_token(AccessToken=access)["SecretCode"]
    pool.cognito.verify_software_token(AccessToken=access, UserCode=totp(seed))
    pool.cognito.admin_set_user_mfa_preference(
        UserPoolId=pool.pool_id,
        Username=USERNAME,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    pool.write_secret(username=USERNAME, password=PASSWORD, totp_secret=seed)
    # When the function runs again, Then it signs in through the challenge and changes nothing
    user = pool.user()
    user.ensure()
    assert user.actions == []


def test_a_secret_without_a_password_fails_the_deployment(pool: Pool) -> None:
    pool.secrets.put_secret_value(SecretId=pool.secret_arn, SecretString=json.dumps({"username": USERNAME}))
    with pytest.raises(RepairFailed, match="'username' and 'password'"):
        pool.user().ensure()


def test_the_custom_resource_creates_on_create_and_deletes_on_delete(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function's configuration, as the api stack sets it
    for name, value in {
        "USER_POOL_ID": pool.pool_id,
        "CLIENT_ID": pool.client_id,
        "SECRET_ARN": pool.secret_arn,
        "GROUP": "readers",
    }.items():
        monkeypatch.setenv(name, value)
    # When CloudFormation creates the resource, Then the user exists and is the physical id
    created = handler.on_event({"RequestType": "Create", "ResourceProperties": {}}, None)
    assert created["PhysicalResourceId"] == USERNAME
    assert "password" not in json.dumps(created).lower()
    assert pool.groups() == ["readers"]
    # And an operator's direct invocation repairs it the same way
    pool.cognito.admin_remove_user_from_group(UserPoolId=pool.pool_id, Username=USERNAME, GroupName="readers")
    assert handler.on_event({}, None)["Data"]["Changes"] == 1
    assert pool.groups() == ["readers"]
    # When CloudFormation deletes it, Then the user is gone (and deleting twice is fine)
    delete = {"RequestType": "Delete", "PhysicalResourceId": USERNAME}
    handler.on_event(delete, None)
    handler.on_event(delete, None)
    assert pool.cognito.list_users(UserPoolId=pool.pool_id)["Users"] == []


@pytest.mark.parametrize(
    ("at", "expected"),
    [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"), (2000000000, "69279037")],
)
def test_totp_matches_the_rfc_6238_test_vectors(at: int, expected: str) -> None:
    # The SHA-1 vectors of RFC 6238, appendix B (secret "12345678901234567890", 8 digits)
    seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp(seed, at, digits=8) == expected
    assert totp(seed.lower(), at) == expected[-6:]
