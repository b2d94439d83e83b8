"""The user directory: a Cognito user pool with the role groups, the web client, the managed login
domain, and what the smoke test that follows every deployment signs in with (its own client, user
secret and role).

The managed login domain (``https://<prefix>.auth.<region>.amazoncognito.com``, managed login
version 2) serves the sign-in pages; the web application's app client, whose callbacks are on the
CloudFront distribution's domain, is created by the web stack (``stacks/web/sign_in.py``), which
deploys after this one.

The smoke test (``scripts/smoke_test.py``) assumes the role, reads the secret, signs in with the
admin password flow of its own app client, answers the TOTP challenge where MFA is required, and
calls one authenticated route. The user itself is created and repaired at deployment by
``stacks/api_constructs/smoke_test_user.py``, not by the smoke test: the role may sign in and
read the secret, nothing more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.config import EnvironmentConfig
from stacks.logical_ids import FlatScope
from stacks.nag import acknowledge

# What the smoke test may do in the user pool: sign in (the admin flow needs IAM credentials; no
# public flow is opened). Creating and repairing its user is the deployment's job.
SMOKE_TEST_USER_POOL_ACTIONS = (
    "cognito-idp:AdminInitiateAuth",
    "cognito-idp:AdminRespondToAuthChallenge",
)


WEB_CALLBACK_PATH = "/auth/callback"


def smoke_test_username(environment_name: str) -> str:
    """The smoke-test user's name (an address of a reserved domain: it never receives mail)."""
    return f"smoke-test@{environment_name}.patronus.invalid"


def smoke_test_role_name(config: EnvironmentConfig) -> str:
    """The fixed name of the smoke-test role, which a pipeline in another account must know."""
    return f"{config.project}-{config.name}-smoke-test"


def smoke_test_runner_role_name(config: EnvironmentConfig) -> str:
    """The fixed name of the pipeline step's role that runs the smoke test (the one principal
    the smoke-test role trusts)."""
    return f"{config.project}-{config.name}-smoke-test-runner"


@dataclass(frozen=True)
class UserDirectoryProps:
    """Inputs of :class:`UserDirectory`.

    Attributes:
        environment_name: ``dev``, ``prod``...: in descriptions and the smoke-test user's name.
        groups: the Cognito groups, one per role of the API.
        unit_groups: the unit groups (``unit-...``) managed with the pool (cdk.json
            ``api.unit_groups`` and the default unit); operators may add others by hand.
        mfa_required: MFA for everyone (otherwise optional).
        threat_protection: the Plus plan with threat protection (otherwise Essentials).
        removal_policy / deletion_protection: what becomes of the pool with the stack, and
            whether it can be deleted at all.
        smoke_test_group: the smoke-test user's group.
        smoke_test_role_name: the fixed name of the role the pipeline assumes.
        smoke_test_account: the account of the pipeline whose smoke-test step assumes it.
        smoke_test_runner_role_name: the fixed name of that step's own role, the only principal
            the smoke-test role trusts.
        web_origins: the web application's origins; its sign-in returns to
            ``<origin>/auth/callback`` (none: the web client has no OAuth flow).
        sign_in_domain_prefix: the managed login domain's prefix (none: no domain).
    """

    environment_name: str
    groups: Sequence[str]
    unit_groups: Sequence[str]
    mfa_required: bool
    threat_protection: bool
    removal_policy: RemovalPolicy
    deletion_protection: bool
    smoke_test_group: str
    smoke_test_role_name: str
    smoke_test_account: str
    smoke_test_runner_role_name: str
    web_origins: Sequence[str] = ()
    sign_in_domain_prefix: str | None = None


class UserDirectory(FlatScope):
    """The user pool, its groups and clients, and the smoke test's access; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: UserDirectoryProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.user_pool = self._build_user_pool()
        self._build_groups()
        self.web_client = self._build_web_client()
        self.sign_in_domain = self._build_sign_in_domain()
        self._acknowledge_plan()
        self.smoke_test_client = self._build_smoke_test_client()
        self.smoke_test_secret = self._build_smoke_test_secret()
        self.smoke_test_role = self._build_smoke_test_role()
        self.outputs = self._build_outputs()

    def _build_user_pool(self) -> cognito.UserPool:
        props = self.props
        threat = props.threat_protection
        return cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
                password_history_size=12 if threat else None,
            ),
            mfa=cognito.Mfa.REQUIRED if props.mfa_required else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.PLUS if threat else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if threat else None
            ),
            deletion_protection=props.deletion_protection,
            removal_policy=props.removal_policy,
        )

    def _build_groups(self) -> None:
        for group in self.props.groups:
            cognito.CfnUserPoolGroup(
                self,
                f"Group{group.capitalize()}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=group,
                description=f"Patronus {group}",
            )
        for unit in self.props.unit_groups:
            cognito.CfnUserPoolGroup(
                self,
                "UnitGroup" + "".join(part.capitalize() for part in re.split(r"[-_]", unit)),
                user_pool_id=self.user_pool.user_pool_id,
                group_name=unit,
                description=f"Patronus unit {unit}: the dossiers of this unit",
            )

    def _build_web_client(self) -> cognito.UserPoolClient:
        # The authorization code grant (with PKCE, in the browser) only: no implicit flow, and
        # callbacks on the application's own origins, never a placeholder.
        origins = list(self.props.web_origins)
        oauth = cognito.OAuthSettings(
            flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
            scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
            callback_urls=[f"{origin}{WEB_CALLBACK_PATH}" for origin in origins],
            logout_urls=[f"{origin}/" for origin in origins],
        )
        return self.user_pool.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=oauth if origins else None,
            disable_o_auth=not origins,
            generate_secret=False,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(1),
        )

    def _build_sign_in_domain(self) -> cognito.UserPoolDomain | None:
        """Cognito's managed login (version 2) on a prefix domain; its pages are styled per app client."""
        prefix = self.props.sign_in_domain_prefix
        if prefix is None:
            return None
        return self.user_pool.add_domain(
            "SignInDomain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix),
            managed_login_version=cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
        )

    def _acknowledge_plan(self) -> None:
        name = self.props.environment_name
        if not self.props.mfa_required:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                f"MFA is optional in the {name} environment (test users, no real data); "
                "it is required in prod through the same configuration key.",
            )
        if not self.props.threat_protection:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG8",
                f"The Essentials plan is used in {name}; prod uses Plus (threat "
                "protection) through api.threat_protection.",
            )
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG3",
                f"Threat protection (Cognito Plus plan, billed per user) is off in {name}; "
                "prod turns it on with api.threat_protection.",
            )

    def _build_smoke_test_client(self) -> cognito.UserPoolClient:
        return self.user_pool.add_client(
            "SmokeTestClient",
            auth_flows=cognito.AuthFlow(admin_user_password=True),
            disable_o_auth=True,
            generate_secret=False,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.minutes(5),
            access_token_validity=Duration.minutes(5),
            refresh_token_validity=Duration.minutes(60),
        )

    def _build_smoke_test_secret(self) -> secretsmanager.Secret:
        name, group = self.props.environment_name, self.props.smoke_test_group
        secret = secretsmanager.Secret(
            self,
            "SmokeTestCredentials",
            description=f"Patronus {name}: sign-in of the smoke-test user (group {group})",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": smoke_test_username(name)}),
                generate_string_key="password",
                password_length=40,
                require_each_included_type=True,
                exclude_characters="\"'\\`",
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "The deployment's custom resource sets the Cognito password from this secret, so "
            "rotating means writing a new value and invoking that function (docs/operations.md).",
        )
        return secret

    def _build_smoke_test_role(self) -> iam.Role:
        # A fixed name: the pipeline may live in another account and grants sts:AssumeRole on
        # this exact ARN (a generated name cannot cross the account boundary).
        # Trusted: the pipeline's smoke-test step only (its role has a fixed name for this), not
        # every principal of the pipeline's account.
        props = self.props
        account, runner_name = props.smoke_test_account, props.smoke_test_runner_role_name
        runner = f"arn:{Aws.PARTITION}:iam::{account}:role/{runner_name}"
        role = iam.Role(
            self,
            "SmokeTestRole",
            role_name=self.props.smoke_test_role_name,
            assumed_by=iam.AccountPrincipal(self.props.smoke_test_account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": runner}}
            ),
            description="Assumed by the delivery pipeline's smoke test: the smoke-test user only",
            max_session_duration=Duration.hours(1),
        )
        self.user_pool.grant(role, *SMOKE_TEST_USER_POOL_ACTIONS)
        self.smoke_test_secret.grant_read(role)
        return role

    def _build_outputs(self) -> dict[str, CfnOutput]:
        """The pool and client ids for the web application, and what the smoke test signs in with."""
        return {
            name: CfnOutput(self, name, value=value, description=description)
            for name, value, description in (
                ("UserPoolId", self.user_pool.user_pool_id, None),
                ("UserPoolClientId", self.web_client.user_pool_client_id, None),
                (
                    "SmokeTestClientId",
                    self.smoke_test_client.user_pool_client_id,
                    "App client of the smoke test (admin password sign-in only)",
                ),
                (
                    "SmokeTestSecretArn",
                    self.smoke_test_secret.secret_arn,
                    "Credentials of the smoke-test user",
                ),
                ("SmokeTestRoleArn", self.smoke_test_role.role_arn, "Role the pipeline's smoke test assumes"),
            )
        }
