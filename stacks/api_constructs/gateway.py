"""The REST API: one regional API Gateway whose methods are the API's routes.

Each route of the application becomes one method that proxies to the ``live`` alias of the api
function; a route that needs a role gets the Cognito authorizer (the function checks the role),
a public route none. Requests are validated (body, path parameters), throttled per stage,
traced, and logged as JSON access logs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from patronus_api.route_table import (
    CORS_ALLOW_HEADERS,
    CORS_EXPOSE_HEADERS,
    CORS_MAX_AGE_SECONDS,
    ApiRoute,
    cors_methods,
)
from stacks.logical_ids import FlatScope
from stacks.nag import acknowledge


@dataclass(frozen=True)
class ApiGatewayProps:
    """Inputs of :class:`ApiGateway`.

    Attributes:
        rest_api_name / stage_name / description: the API and its one stage.
        routes: the application's routes (method, path, public or not).
        handler: what every method invokes (the api function's ``live`` alias).
        user_pool: the Cognito pool whose ID tokens the authorizer accepts.
        throttling_rate_limit / throttling_burst_limit: the stage's throttling.
        web_origins: origins allowed by CORS (none: no CORS preflight methods).
        access_log_retention / removal_policy: the access log group.
        manage_account_cloudwatch_role: create the account's API Gateway logging role.
        detailed_metrics: CloudWatch metrics per method (``api.detailed_metrics``), not only
            per stage.
    """

    rest_api_name: str
    stage_name: str
    description: str
    routes: Sequence[ApiRoute]
    handler: lambda_.IFunction
    user_pool: cognito.IUserPool
    throttling_rate_limit: float
    throttling_burst_limit: int
    web_origins: Sequence[str]
    access_log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    manage_account_cloudwatch_role: bool
    detailed_metrics: bool = False


# One JSON object per request; ``sub`` is the Cognito subject the authorizer verified (absent on
# public routes), so that a request can be traced to its caller.
ACCESS_LOG_FIELDS = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "ip": apigw.AccessLogField.context_identity_source_ip(),
    "sub": apigw.AccessLogField.context_authorizer_claims("sub"),
    "requestTime": apigw.AccessLogField.context_request_time(),
    "httpMethod": apigw.AccessLogField.context_http_method(),
    "resourcePath": apigw.AccessLogField.context_resource_path(),
    "status": apigw.AccessLogField.context_status(),
    "protocol": apigw.AccessLogField.context_protocol(),
    "responseLength": apigw.AccessLogField.context_response_length(),
    "integrationLatency": apigw.AccessLogField.context_integration_latency(),
    "wafStatus": apigw.AccessLogField.context_waf_response_code(),
}


class ApiGateway(FlatScope):
    """The REST API, its stage, access logs, authorizer and methods; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: ApiGatewayProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=props.access_log_retention,
            removal_policy=props.removal_policy,
        )
        self.rest_api = self._build_rest_api()
        self.validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[props.user_pool]
        )
        # API Gateway invokes the alias, never $LATEST: traffic follows the alias during a canary,
        # and the invoke permission is granted on the alias.
        self.integration = apigw.LambdaIntegration(
            props.handler, proxy=True, scope_permission_to_method=False
        )
        for route in props.routes:
            self._add_method(route)
        self._acknowledge()
        self.outputs = {
            "ApiUrl": CfnOutput(
                self, "ApiUrl", value=self.rest_api.url, description="Base URL of the REST API"
            )
        }

    def _build_rest_api(self) -> apigw.RestApi:
        props = self.props
        return apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=props.rest_api_name,
            description=props.description,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=props.manage_account_cloudwatch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            default_cors_preflight_options=self._cors(),
            deploy_options=apigw.StageOptions(
                stage_name=props.stage_name,
                tracing_enabled=True,
                metrics_enabled=props.detailed_metrics,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=props.throttling_rate_limit,
                throttling_burst_limit=props.throttling_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(
                    json.dumps(
                        {name: str(field) for name, field in ACCESS_LOG_FIELDS.items()}, separators=(",", ":")
                    )
                ),
            ),
        )

    def _cors(self) -> apigw.CorsOptions | None:
        if not self.props.web_origins:
            return None
        return apigw.CorsOptions(
            allow_origins=list(self.props.web_origins),
            allow_methods=cors_methods(list(self.props.routes)),
            allow_headers=list(CORS_ALLOW_HEADERS),
            expose_headers=list(CORS_EXPOSE_HEADERS),
            max_age=Duration.seconds(CORS_MAX_AGE_SECONDS),
        )

    def _add_method(self, route: ApiRoute) -> None:
        resource = self.rest_api.root.resource_for_path(route.path)
        if route.public:
            method = resource.add_method(
                route.method,
                self.integration,
                request_validator=self.validator,
                authorization_type=apigw.AuthorizationType.NONE,
            )
            _acknowledge_open(
                method, f"{route.method} {route.path} is public by design (health check, API description)"
            )
            return
        resource.add_method(
            route.method,
            self.integration,
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
            request_validator=self.validator,
            request_parameters={f"method.request.path.{name}": True for name in route.parameters} or None,
        )

    def _acknowledge(self) -> None:
        for child in self.rest_api.root.node.find_all():
            if isinstance(child, apigw.Method) and child.http_method == "OPTIONS":
                _acknowledge_open(child, "CORS preflight requests carry no credentials by definition")
        if self.props.manage_account_cloudwatch_role:
            acknowledge(
                self.rest_api.node.find_child("CloudWatchRole"),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level role API Gateway needs to write access and execution logs; "
                "AWS maintains this policy for exactly that purpose.",
            )


def _acknowledge_open(method: apigw.Method, why: str) -> None:
    acknowledge(method, "AwsSolutions-APIG4", f"{why}; every /v1 route uses the Cognito authorizer.")
    acknowledge(method, "AwsSolutions-COG4", f"{why}; every /v1 route uses the Cognito authorizer.")
