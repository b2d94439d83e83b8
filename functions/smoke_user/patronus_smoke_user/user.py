"""Create or repair the smoke-test user from its Secrets Manager secret, and prove it can sign in.

The secret holds ``username``, ``password`` and, once a TOTP device is enrolled (where MFA is
required), ``totp_secret``. :meth:`SmokeTestUser.ensure` makes Cognito match it:

1. the user exists (created without invitation e-mail, its address marked verified) and is enabled;
2. it belongs to its group and to no other;
3. it signs in with the secret's password through the admin flow of the smoke test's own client
   (the password is set, permanent, when sign-in refuses it);
4. the sign-in completes: a TOTP device is enrolled on the MFA setup challenge and its seed is
   written to the secret; the MFA challenge is answered with the secret's seed, and a user whose
   device no longer matches the secret (seed lost or replaced) is deleted and created again.

Every change is listed in :attr:`SmokeTestUser.actions`; nothing secret is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from patronus_smoke_user.totp import totp

DEVICE_NAME = "smoke-test"
# What a refused sign-in with the secret's password is answered with: set the password.
PASSWORD_REFUSED = {"NotAuthorizedException", "PasswordResetRequiredException"}
MAX_CHALLENGES = 4


class RepairFailed(Exception):
    """The user could not be brought in step with its secret."""


class _DeviceLost(Exception):
    """The user's TOTP device does not match the secret: it must be created again."""


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(exc).__name__))


@dataclass
class Credentials:
    username: str
    password: str
    totp_secret: str | None
    raw: dict[str, Any]


def read_credentials(secrets: Any, secret_id: str) -> Credentials:
    """The secret's ``username``, ``password`` and optional ``totp_secret``."""
    value = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise RepairFailed(f"secret {secret_id}: not JSON") from exc
    if not isinstance(data, dict) or not data.get("username") or not data.get("password"):
        raise RepairFailed(f"secret {secret_id}: needs the keys 'username' and 'password'")
    return Credentials(str(data["username"]), str(data["password"]), data.get("totp_secret") or None, data)


@dataclass
class SmokeTestUser:
    """The smoke-test user of one pool, its client, secret and group."""

    cognito: Any
    secrets: Any
    user_pool_id: str
    client_id: str
    secret_id: str
    group: str
    actions: list[str] = field(default_factory=list)

    # -- the steps -------------------------------------------------------------------------

    def ensure(self) -> str:
        """Bring the user in step with the secret and sign in once; the username."""
        credentials = read_credentials(self.secrets, self.secret_id)
        self._exist(credentials)
        self._sync_groups(credentials.username)
        try:
            self._sign_in(credentials)
        except _DeviceLost:
            self.cognito.admin_delete_user(UserPoolId=self.user_pool_id, Username=credentials.username)
            self.actions.append(
                f"deleted {credentials.username}: its TOTP device did not match the secret's seed"
            )
            credentials.totp_secret = None
            credentials.raw.pop("totp_secret", None)
            self._exist(credentials)
            self._sync_groups(credentials.username)
            self._sign_in(credentials)
        return credentials.username

    def delete(self, username: str) -> None:
        """Remove the user (the resource is deleted); a missing user is fine."""
        try:
            self.cognito.admin_delete_user(UserPoolId=self.user_pool_id, Username=username)
        except Exception as exc:
            if error_code(exc) not in {"UserNotFoundException", "ResourceNotFoundException"}:
                raise
            return
        self.actions.append(f"deleted {username}")

    def _exist(self, credentials: Credentials) -> None:
        pool, name = self.user_pool_id, credentials.username
        try:
            user = self.cognito.admin_get_user(UserPoolId=pool, Username=name)
        except Exception as exc:
            if error_code(exc) != "UserNotFoundException":
                raise
            self.cognito.admin_create_user(
                UserPoolId=pool,
                Username=name,
                UserAttributes=[
                    {"Name": "email", "Value": name},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
            self._set_password(credentials)
            self.actions.append(f"created {name}")
            return
        if not user.get("Enabled", True):
            self.cognito.admin_enable_user(UserPoolId=pool, Username=name)
            self.actions.append(f"enabled {name}")

    def _sync_groups(self, username: str) -> None:
        pool = self.user_pool_id
        listed = self.cognito.admin_list_groups_for_user(UserPoolId=pool, Username=username)
        groups = {group["GroupName"] for group in listed.get("Groups", [])}
        for extra in sorted(groups - {self.group}):
            self.cognito.admin_remove_user_from_group(UserPoolId=pool, Username=username, GroupName=extra)
            self.actions.append(f"removed {username} from {extra}")
        if self.group not in groups:
            self.cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=self.group)
            self.actions.append(f"added {username} to {self.group}")

    def _set_password(self, credentials: Credentials) -> None:
        self.cognito.admin_set_user_password(
            UserPoolId=self.user_pool_id,
            Username=credentials.username,
            Password=credentials.password,
            Permanent=True,
        )

    # -- sign-in ---------------------------------------------------------------------------

    def _initiate(self, credentials: Credentials) -> dict[str, Any]:
        result: dict[str, Any] = self.cognito.admin_initiate_auth(
            UserPoolId=self.user_pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": credentials.username, "PASSWORD": credentials.password},
        )
        return result

    def _sign_in(self, credentials: Credentials) -> None:
        try:
            result = self._initiate(credentials)
        except Exception as exc:
            if error_code(exc) not in PASSWORD_REFUSED:
                raise
            self._set_password(credentials)
            self.actions.append(f"set the password of {credentials.username} from the secret")
            result = self._initiate(credentials)
        self._complete(result, credentials)

    def _respond(self, challenge: str, session: str, responses: dict[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = self.cognito.admin_respond_to_auth_challenge(
            UserPoolId=self.user_pool_id,
            ClientId=self.client_id,
            ChallengeName=challenge,
            Session=session,
            ChallengeResponses=responses,
        )
        return result

    def _complete(self, result: dict[str, Any], credentials: Credentials) -> None:
        for _ in range(MAX_CHALLENGES):
            if result.get("AuthenticationResult"):
                return
            challenge, session = result.get("ChallengeName"), str(result.get("Session", ""))
            user = {"USERNAME": credentials.username}
            if challenge == "SOFTWARE_TOKEN_MFA":
                if not credentials.totp_secret:
                    raise _DeviceLost
                code = totp(credentials.totp_secret)
                try:
                    result = self._respond(challenge, session, {**user, "SOFTWARE_TOKEN_MFA_CODE": code})
                except Exception as exc:
                    if error_code(exc) == "CodeMismatchException":
                        raise _DeviceLost from exc
                    raise
            elif challenge == "MFA_SETUP":
                result = self._enrol_totp(session, credentials)
            elif challenge == "NEW_PASSWORD_REQUIRED":
                result = self._respond(challenge, session, {**user, "NEW_PASSWORD": credentials.password})
            else:
                raise RepairFailed(f"sign-in stopped at an unexpected challenge: {challenge}")
        raise RepairFailed("sign-in did not complete after several challenges")

    def _enrol_totp(self, session: str, credentials: Credentials) -> dict[str, Any]:
        """MFA is required and the user has no device: enrol one and keep its seed in the secret."""
        association = self.cognito.associate_software_token(Session=session)
        seed = str(association["SecretCode"])
        verified = self.cognito.verify_software_token(
            Session=association.get("Session", session), UserCode=totp(seed), FriendlyDeviceName=DEVICE_NAME
        )
        if verified.get("Status") != "SUCCESS":
            raise RepairFailed("Cognito refused the code of the new TOTP device")
        self.secrets.put_secret_value(
            SecretId=self.secret_id, SecretString=json.dumps({**credentials.raw, "totp_secret": seed})
        )
        credentials.totp_secret = seed
        self.actions.append(f"enrolled a TOTP device for {credentials.username}, its seed in the secret")
        return self._respond("MFA_SETUP", str(verified["Session"]), {"USERNAME": credentials.username})
