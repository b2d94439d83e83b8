"""Cognito, the REST API and its WAF, the api / document_events functions and the schema migration."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from aws_cdk.assertions import Match

from patronus.models import Role
from patronus.schema import discover, fingerprint
from patronus_api.access import requires
from patronus_api.app import app
from patronus_api.route_table import ApiRoute, routes
from stacks.code import powertools_layer_arn
from tests.infrastructure.conftest import Synth

API_HANDLER = "patronus_api.handler.handler"
EVENTS_HANDLER = "patronus_document_events.handler.handler"
MIGRATE_HANDLER = "patronus_db_migrate.handler.handler"


def function(synth: Synth, env: str, handler: str) -> dict[str, Any]:
    found = synth.template(env, "api").find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": handler}}
    )
    assert len(found) == 1
    return next(iter(found.values()))["Properties"]


def role_statements(synth: Synth, env: str, handler: str) -> list[dict[str, Any]]:
    template = synth.template(env, "api")
    role = function(synth, env, handler)["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions(statement: dict[str, Any]) -> set[str]:
    value = statement["Action"]
    return {value} if isinstance(value, str) else set(value)


# -- Cognito ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "mfa"), [("prod", "ON"), ("dev", "OPTIONAL")])
def test_user_pool_has_no_self_sign_up_a_strong_password_policy_and_mfa(
    synth: Synth, env: str, mfa: str
) -> None:
    synth.template(env, "api").has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "MfaConfiguration": mfa,
            "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "Policies": {
                "PasswordPolicy": Match.object_like(
                    {
                        "MinimumLength": 14,
                        "RequireLowercase": True,
                        "RequireUppercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": True,
                    }
                )
            },
        },
    )


def test_prod_user_pool_has_threat_protection(synth: Synth) -> None:
    synth.template("prod", "api").has_resource_properties(
        "AWS::Cognito::UserPool",
        {"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}},
    )


def test_groups_readers_editors_admins_the_default_unit_and_a_public_client_without_secret(
    synth: Synth,
) -> None:
    template = synth.template("prod", "api")
    groups = template.find_resources("AWS::Cognito::UserPoolGroup")
    assert sorted(g["Properties"]["GroupName"] for g in groups.values()) == [
        "admins",
        "editors",
        "readers",
        "unit-general",
    ]
    template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {"GenerateSecret": False, "PreventUserExistenceErrors": "ENABLED", "EnableTokenRevocation": True},
    )


# -- REST API --------------------------------------------------------------------------------


def _paths(synth: Synth, env: str) -> dict[str, str]:
    """logical id of each API resource -> its full path."""
    template = synth.template(env, "api")
    resources = template.find_resources("AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def _methods(synth: Synth, env: str) -> dict[tuple[str, str], dict[str, Any]]:
    template = synth.template(env, "api")
    paths = _paths(synth, env)
    methods = {}
    for method in template.find_resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        methods[(path, props["HttpMethod"])] = props
    return methods


def gateway_routes(synth: Synth, env: str) -> dict[tuple[str, str], str]:
    """(method, path) -> authorization type of every API Gateway method but the CORS preflights."""
    return {
        (verb, path): method["AuthorizationType"]
        for (path, verb), method in _methods(synth, env).items()
        if verb != "OPTIONS"
    }


def compare_routes(application: Sequence[ApiRoute], gateway: Mapping[tuple[str, str], str]) -> list[str]:
    """What differs between the application's routes and API Gateway's methods (empty: nothing)."""
    expected = {
        (route.method, route.path): "NONE" if route.public else "COGNITO_USER_POOLS" for route in application
    }
    problems = [
        f"{m} {p}: in the application, not in API Gateway"
        for m, p in sorted(expected.keys() - gateway.keys())
    ]
    problems += [
        f"{m} {p}: in API Gateway, not in the application"
        for m, p in sorted(gateway.keys() - expected.keys())
    ]
    problems += [
        f"{m} {p}: authorization {gateway[(m, p)]} in API Gateway, {expected[(m, p)]} for the application"
        for m, p in sorted(expected.keys() & gateway.keys())
        if expected[(m, p)] != gateway[(m, p)]
    ]
    return problems


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_api_gateway_has_exactly_the_routes_of_the_application(synth: Synth, env: str) -> None:
    # Given the routes of the application (read from its resolver) and the synthesized API Gateway
    application, gateway = routes(), gateway_routes(synth, env)
    # Then each side has every route of the other, public or behind the Cognito authorizer alike
    assert compare_routes(application, gateway) == []
    assert len(gateway) == len(application) > 10


def test_the_route_comparison_reports_a_route_that_one_side_lacks(synth: Synth) -> None:
    # Given the synthesized API Gateway, and a copy of the application's resolver with one more route
    gateway = gateway_routes(synth, "prod")
    extended = copy.deepcopy(app)
    extended.get("/v1/only-in-the-application", **requires(Role.READER))(lambda: {})
    # Then the comparison names the route that API Gateway lacks
    assert compare_routes(routes(extended), gateway) == [
        "GET /v1/only-in-the-application: in the application, not in API Gateway"
    ]
    # And a route that only API Gateway has, or protected differently
    without_health = [route for route in routes() if route.path != "/health"]
    assert compare_routes(without_health, gateway) == ["GET /health: in API Gateway, not in the application"]
    opened = [
        ApiRoute(r.path, r.method, "public", r.status) if r.path == "/v1/dossiers" else r for r in routes()
    ]
    assert compare_routes(opened, gateway) == [
        f"{verb} /v1/dossiers: authorization COGNITO_USER_POOLS in API Gateway, NONE for the application"
        for verb in ("GET", "POST")
    ]


def test_every_protected_method_uses_the_authorizer_and_validates_its_path_parameters(synth: Synth) -> None:
    methods = _methods(synth, "prod")
    for route in routes():
        method = methods[(route.path, route.method)]
        assert "Ref" in method["RequestValidatorId"]
        if route.public:
            assert "AuthorizerId" not in method
            continue
        assert "Ref" in method["AuthorizerId"]
        parameters = {f"method.request.path.{name}": True for name in route.parameters}
        assert method.get("RequestParameters", {}) == parameters, (route.method, route.path)
    # And nothing under /v1 is open except the CORS preflights (which carry no credentials)
    for (path, verb), method in methods.items():
        if path.startswith("/v1") and verb != "OPTIONS":
            assert method["AuthorizationType"] == "COGNITO_USER_POOLS", (path, verb)


def test_cors_allows_the_methods_of_the_routes(synth: Synth) -> None:
    # Given dev, whose web origins need CORS; Then its preflights allow exactly the routes' methods
    preflights = [m for (_, verb), m in _methods(synth, "dev").items() if verb == "OPTIONS"]
    assert preflights
    allowed = {
        m["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
            "method.response.header.Access-Control-Allow-Methods"
        ]
        for m in preflights
    }
    assert allowed == {"'GET,POST,PUT,PATCH,DELETE,OPTIONS'"}


def test_all_routes_proxy_to_the_live_alias_of_the_api_function(synth: Synth) -> None:
    # Given the live alias of the api function (found by its properties)
    template = synth.template("prod", "api")
    (api_function,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": API_HANDLER}}
    )
    (alias,) = template.find_resources(
        "AWS::Lambda::Alias", {"Properties": {"Name": "live", "FunctionName": {"Ref": api_function}}}
    )
    # Then every route invokes that alias, never the unqualified function ($LATEST)
    for (_, verb), method in _methods(synth, "prod").items():
        if verb == "OPTIONS":
            continue
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert {"Ref": alias} in integration["Uri"]["Fn::Join"][1]


def test_request_validation_is_on(synth: Synth) -> None:
    synth.template("prod", "api").has_resource_properties(
        "AWS::ApiGateway::RequestValidator", {"ValidateRequestBody": True, "ValidateRequestParameters": True}
    )


def test_the_api_is_regional(synth: Synth) -> None:
    synth.template("prod", "api").has_resource_properties(
        "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}}
    )


def test_stage_throttles_traces_and_writes_json_access_logs(synth: Synth) -> None:
    template = synth.template("prod", "api")
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "prod",
            "TracingEnabled": True,
            "MethodSettings": [
                Match.object_like(
                    {
                        "ThrottlingRateLimit": 200,
                        "ThrottlingBurstLimit": 400,
                        "LoggingLevel": "ERROR",
                        # Per-method metrics only where api.detailed_metrics says so
                        "MetricsEnabled": False,
                        "DataTraceEnabled": False,
                    }
                )
            ],
            "AccessLogSetting": {
                "DestinationArn": Match.any_value(),
                # Each line names the caller: the Cognito subject the authorizer verified
                "Format": Match.string_like_regexp(
                    r'^\{"requestId":"\$context\.requestId",.*"sub":"\$context\.authorizer\.claims\.sub"'
                ),
            },
        },
    )


def test_waf_uses_managed_rules_and_a_rate_limit_and_guards_the_stage(synth: Synth) -> None:
    template = synth.template("prod", "api")
    acl = next(iter(template.find_resources("AWS::WAFv2::WebACL").values()))["Properties"]
    assert acl["Scope"] == "REGIONAL"
    names = {r["Name"]: r for r in acl["Rules"]}
    for group in (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
    ):
        assert names[group]["Statement"]["ManagedRuleGroupStatement"] == {"VendorName": "AWS", "Name": group}
    rate = names["RateLimitPerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": 10000,
        "EvaluationWindowSec": 300,
    }
    template.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {"ResourceArn": Match.any_value(), "WebACLArn": {"Fn::GetAtt": [Match.any_value(), "Arn"]}},
    )


# -- functions -------------------------------------------------------------------------------


@pytest.mark.parametrize("handler", [API_HANDLER, EVENTS_HANDLER])
def test_functions_run_on_arm64_in_the_vpc_with_tracing_and_both_layers(synth: Synth, handler: str) -> None:
    props = function(synth, "prod", handler)
    assert props["Architectures"] == ["arm64"]
    assert props["Runtime"] == "python3.13"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["MemorySize"] > 0 and props["Timeout"] > 0
    assert len(props["VpcConfig"]["SubnetIds"]) == 3
    assert "Ref" in props["LoggingConfig"]["LogGroup"]
    layers = props["Layers"]
    assert powertools_layer_arn("eu-west-3", 27) in layers
    assert any(isinstance(layer, dict) and "Ref" in layer for layer in layers)


def test_function_log_groups_have_retention(synth: Synth) -> None:
    groups = synth.template("prod", "api").find_resources("AWS::Logs::LogGroup")
    assert groups and all("RetentionInDays" in g["Properties"] for g in groups.values())


def test_api_function_environment_matches_the_code_contract(synth: Synth) -> None:
    variables = function(synth, "prod", API_HANDLER)["Environment"]["Variables"]
    assert variables["PATRONUS_ENVIRONMENT"] == "prod"
    assert variables["PATRONUS_DB_PORT"] == "3306"
    assert variables["PATRONUS_DB_USER"] == "patronus_app"
    assert variables["PATRONUS_DB_NAME"] == "patronus"
    assert variables["PATRONUS_DB_IAM_AUTH"] == "true"
    assert variables["PATRONUS_DB_TLS"] == "true"
    assert variables["PATRONUS_REGION"] == "eu-west-3"
    assert re.search(r"GetAttProxy\w*Endpoint", variables["PATRONUS_DB_HOST"]["Fn::ImportValue"])
    assert "Fn::ImportValue" in variables["PATRONUS_BUCKET"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "patronus-api"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Patronus"
    assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert int(variables["PATRONUS_UPLOAD_URL_TTL"]) > 0
    assert int(variables["PATRONUS_DOWNLOAD_URL_TTL"]) > 0
    assert not [name for name in variables if "PASSWORD" in name or "SECRET" in name]


def test_api_function_may_connect_to_the_proxy_as_the_app_user_and_use_documents_only(synth: Synth) -> None:
    statements = role_statements(synth, "prod", API_HANDLER)
    connect = [s for s in statements if actions(s) == {"rds-db:connect"}]
    assert len(connect) == 1 and "/patronus_app" in str(connect[0]["Resource"])
    assert "DBProxyArn" in str(connect[0]["Resource"])
    s3 = [s for s in statements if any(a.startswith("s3:") for a in actions(s))]
    assert {s["Sid"] for s in s3} == {"UploadedDocuments", "LegacyDocuments"}
    uploads = next(s for s in s3 if s["Sid"] == "UploadedDocuments")
    assert actions(uploads) == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    }
    assert "/documents/*" in str(uploads["Resource"])
    assert not any("*" in a for s in statements for a in actions(s)), "no wildcard actions"
    kms = [s for s in statements if any(a.startswith("kms:") for a in actions(s))]
    assert len(kms) == 1 and actions(kms[0]) == {"kms:GenerateDataKey", "kms:Decrypt"}


def test_document_events_reads_object_metadata_only(synth: Synth) -> None:
    statements = role_statements(synth, "prod", EVENTS_HANDLER)
    s3 = [s for s in statements if any(a.startswith("s3:") for a in actions(s))]
    assert len(s3) == 1 and actions(s3[0]) == {"s3:GetObject"}
    assert "/documents/*" in str(s3[0]["Resource"])
    assert not [s for s in statements if any(a.startswith("kms:") for a in actions(s))]


def test_document_events_is_fed_by_eventbridge_with_retries_and_a_dead_letter_queue(synth: Synth) -> None:
    template = synth.template("prod", "api")
    rules = template.find_resources("AWS::Events::Rule").values()
    rule = next(r["Properties"] for r in rules if "EventPattern" in r["Properties"])
    assert rule["EventPattern"]["source"] == ["aws.s3"]
    assert rule["EventPattern"]["detail-type"] == ["Object Created"]
    assert rule["EventPattern"]["detail"]["object"] == {"key": [{"prefix": "documents/"}]}
    (target,) = rule["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    assert "Fn::GetAtt" in target["DeadLetterConfig"]["Arn"]
    template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 2, "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}}},
    )


def test_outputs_give_the_api_url_and_the_cognito_ids(synth: Synth) -> None:
    outputs = synth.template("prod", "api").find_outputs("*")
    assert {"ApiUrl", "UserPoolId", "UserPoolClientId"} <= set(outputs)


# -- schema migration ------------------------------------------------------------------------


def test_schema_migration_runs_as_a_custom_resource_keyed_by_the_migration_set(synth: Synth) -> None:
    template = synth.template("prod", "api")
    (resource,) = template.find_resources("Custom::PatronusSchemaMigration").values()
    assert resource["Properties"]["MigrationFingerprint"] == fingerprint(discover())
    # It runs after the database stack (both instances up): the api stack deploys after it
    assert synth.stack("prod", "database") in synth.stack("prod", "api").dependencies
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": MIGRATE_HANDLER,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "PATRONUS_DB_SECRET_ARN": Match.any_value(),
                        "PATRONUS_DB_NAME": "patronus",
                        "PATRONUS_DB_APP_USER": "patronus_app",
                        "PATRONUS_DB_TLS": "true",
                        "PATRONUS_DB_IAM_USER": "true",
                    }
                )
            },
            "VpcConfig": Match.any_value(),
        },
    )


def test_the_migration_function_reaches_the_writer_in_the_migration_security_group(synth: Synth) -> None:
    props = function(synth, "prod", MIGRATE_HANDLER)
    # The writer endpoint (not the proxy: the admin user signs in with a password) of the cluster
    host = props["Environment"]["Variables"]["PATRONUS_DB_HOST"]["Fn::ImportValue"]
    assert re.search(r"GetAttCluster\w*EndpointAddress", host)
    # In the migration group, which the database stack lets into the cluster (test_database.py)
    (group,) = props["VpcConfig"]["SecurityGroupIds"]
    assert "MigrationSecurityGroup" in group["Fn::ImportValue"]
    assert all("appSubnet" in subnet["Fn::ImportValue"] for subnet in props["VpcConfig"]["SubnetIds"])
    assert props["Architectures"] == ["arm64"] and props["TracingConfig"] == {"Mode": "Active"}


def test_the_migration_function_reads_the_secret_but_never_holds_its_value(synth: Synth) -> None:
    variables = function(synth, "prod", MIGRATE_HANDLER)["Environment"]["Variables"]
    assert not any("PASSWORD" in name for name in variables)
    # The database stack's admin secret, by ARN
    assert "ClusterSecretAttachment" in variables["PATRONUS_DB_SECRET_ARN"]["Fn::ImportValue"]
    reads = [
        s
        for s in role_statements(synth, "prod", MIGRATE_HANDLER)
        if actions(s) == {"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}
    ]
    assert len(reads) == 1
    assert reads[0]["Resource"] == variables["PATRONUS_DB_SECRET_ARN"]
