"""The smoke-test user, created and repaired at deployment: ``functions/smoke_user`` behind a
custom resource (``Custom::PatronusSmokeTestUser``).

At each create or update (a change of the pool, client, secret, group or of the function's code)
the function brings the user in step with its secret (exists, enabled, in its group only,
password from the secret, a TOTP device whose seed is in the secret where MFA is required) and
signs in once: the deployment fails when the smoke test could not sign in. Delete removes the
user. The function's role holds the user-management actions on the pool; the smoke-test role the
pipeline assumes keeps only the two sign-in actions and the reading of the secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks import code
from stacks.nag import acknowledge, acknowledge_function, acknowledge_provider_framework

FUNCTION = "smoke_user"
RESOURCE_TYPE = "Custom::PatronusSmokeTestUser"
# What the deployment does to the smoke-test user (the pipeline's smoke-test role does none of it).
USER_MANAGEMENT_ACTIONS = (
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminRemoveUserFromGroup",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminInitiateAuth",
    "cognito-idp:AdminRespondToAuthChallenge",
)


@dataclass(frozen=True)
class SmokeTestUserProps:
    """Inputs of :class:`SmokeTestUser`.

    Attributes:
        user_pool / client / secret: the pool, the smoke test's app client (admin password flow)
            and the user's secret (``username``, generated ``password``).
        group: the user's only group.
        log_retention / removal_policy: the function's log group.
    """

    user_pool: cognito.IUserPool
    client: cognito.IUserPoolClient
    secret: secretsmanager.ISecret
    group: str
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy


class SmokeTestUser(Construct):
    """The function, its provider and the custom resource; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: SmokeTestUserProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.function = self._build_function()
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function,
            log_group=logs.LogGroup(
                self, "ProviderLogs", retention=props.log_retention, removal_policy=RemovalPolicy.DESTROY
            ),
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties={
                "UserPoolId": props.user_pool.user_pool_id,
                "ClientId": props.client.user_pool_client_id,
                "SecretArn": props.secret.secret_arn,
                "Group": props.group,
                "CodeFingerprint": code.folder_fingerprint(FUNCTION),
            },
        )
        self._acknowledge()

    def _build_function(self) -> lambda_.Function:
        props = self.props
        function = lambda_.Function(
            self,
            "Function",
            description="Creates or repairs the smoke-test user from its secret at deployment",
            runtime=code.RUNTIME,
            architecture=code.ARCHITECTURE,
            handler="patronus_smoke_user.handler.on_event",
            code=code.function_code(FUNCTION),
            memory_size=256,
            timeout=Duration.minutes(2),
            log_group=logs.LogGroup(
                self, "Logs", retention=props.log_retention, removal_policy=props.removal_policy
            ),
            environment={
                "USER_POOL_ID": props.user_pool.user_pool_id,
                "CLIENT_ID": props.client.user_pool_client_id,
                "SECRET_ARN": props.secret.secret_arn,
                "GROUP": props.group,
            },
        )
        props.user_pool.grant(function, *USER_MANAGEMENT_ACTIONS)
        props.secret.grant_read(function)
        props.secret.grant_write(function)  # the seed of the TOTP device it enrols
        return function

    def _acknowledge(self) -> None:
        acknowledge_function(self.function, in_vpc=False, traced=False)
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "The function runs on the project's pinned runtime, like every Patronus function.",
        )
        acknowledge_provider_framework(self.provider, self.function, "smoke-test user function")
