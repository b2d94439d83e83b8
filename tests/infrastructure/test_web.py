"""The web stack: one HTTPS origin for the application and its API, signed in with Cognito.

CloudFront's managed policy ids below are AWS's published identifiers (CloudFront developer
guide, "Use managed cache policies" and "Use managed origin request policies"), an independent
source: the stack names the policies through aws-cdk-lib's constants.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from stacks.config import ConfigError
from stacks.web import contract
from stacks.web.delivery import built_application
from stacks.web.hosting import VIEWER_REQUEST_FUNCTION
from tests.infrastructure.conftest import Synth

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ONE_YEAR = 365 * 24 * 3600


def resources(synth: Synth, env: str, kind: str) -> dict[str, Any]:
    return dict(synth.template(env, "web").find_resources(kind))


def only(synth: Synth, env: str, kind: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = resources(synth, env, kind).items()
    return logical_id, resource["Properties"]


def distribution(synth: Synth, env: str) -> tuple[str, dict[str, Any]]:
    logical_id, props = only(synth, env, "AWS::CloudFront::Distribution")
    return logical_id, props["DistributionConfig"]


def site_bucket(synth: Synth, env: str) -> tuple[str, dict[str, Any]]:
    """The bucket the distribution's default origin reads (the other one holds the logs)."""
    _, config = distribution(synth, env)
    default = next(
        o for o in config["Origins"] if o["Id"] == config["DefaultCacheBehavior"]["TargetOriginId"]
    )
    logical_id = default["DomainName"]["Fn::GetAtt"][0]
    return logical_id, resources(synth, env, "AWS::S3::Bucket")[logical_id]["Properties"]


def csp(synth: Synth, env: str) -> str:
    _, props = only(synth, env, "AWS::CloudFront::ResponseHeadersPolicy")
    value = props["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    return json.dumps(value["ContentSecurityPolicy"])


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_site_bucket_is_private_encrypted_and_tls_only(synth: Synth, env: str) -> None:
    logical_id, bucket = site_bucket(synth, env)
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert "WebsiteConfiguration" not in bucket
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(synth, env, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical_id}
    ]
    # Then the only reader is CloudFront, for this distribution; everything else must use TLS
    allows = [s for s in policy if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allows[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allows[0]["Condition"]["StringEquals"]
    denies = [s for s in policy if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_the_application_is_read_through_origin_access_control(synth: Synth) -> None:
    _, config = distribution(synth, "dev")
    default = next(
        o for o in config["Origins"] if o["Id"] == config["DefaultCacheBehavior"]["TargetOriginId"]
    )
    assert default["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity
    oac_id = default["OriginAccessControlId"]["Fn::GetAtt"][0]
    _, oac = only(synth, "dev", "AWS::CloudFront::OriginAccessControl")
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert oac["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac_id in resources(synth, "dev", "AWS::CloudFront::OriginAccessControl")


def test_deep_links_get_the_application_and_files_keep_their_answer(synth: Synth) -> None:
    _, config = distribution(synth, "dev")
    default = config["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    ((association),) = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert config["DefaultRootObject"] == "index.html"
    # No distribution-wide error page: it would turn the API's 403 and 404 into index.html
    assert "CustomErrorResponses" not in config


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront function")
def test_the_viewer_request_function_rewrites_only_paths_without_an_extension() -> None:
    # Given the function's code, run by node on the URIs CloudFront would pass it
    uris = ["/", "/dossiers", "/dossiers/42/edit", "/auth/callback", "/assets/index-Ab1.js", "/favicon.svg"]
    script = (
        VIEWER_REQUEST_FUNCTION.read_text()
        + f"\nconsole.log(JSON.stringify({json.dumps(uris)}.map(u => handler({{request: {{uri: u}}}}).uri)));"
    )
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=30)
    # Then screens get index.html, files keep their path
    assert json.loads(result.stdout) == [
        "/index.html",
        "/index.html",
        "/index.html",
        "/index.html",
        "/assets/index-Ab1.js",
        "/favicon.svg",
    ]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_api_paths_go_to_the_stage_uncached_with_every_viewer_header_but_host(
    synth: Synth, env: str
) -> None:
    _, config = distribution(synth, env)
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviours) == {"/v1/*", "/health"}
    origins = {o["Id"]: o for o in config["Origins"]}
    for behaviour in behaviours.values():
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
        assert set(behaviour["AllowedMethods"]) >= {"GET", "POST", "PATCH", "DELETE", "OPTIONS"}
        origin = origins[behaviour["TargetOriginId"]]
        # The REST API's stage, read from its URL (https://<id>.execute-api.<region>.amazonaws.com/<stage>/)
        host, stage = origin["DomainName"]["Fn::Select"], origin["OriginPath"]["Fn::Join"][1]
        assert host[0] == 2 and stage[0] == "/" and stage[1]["Fn::Select"][0] == 3
        for split in (host[1]["Fn::Split"], stage[1]["Fn::Select"][1]["Fn::Split"]):
            assert split[0] == "/" and "RestApi" in json.dumps(split[1])
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_headers_policy_sets_csp_hsts_nosniff_no_framing_and_a_referrer_policy(
    synth: Synth, env: str
) -> None:
    _, props = only(synth, env, "AWS::CloudFront::ResponseHeadersPolicy")
    headers = props["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= ONE_YEAR
    assert headers["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    policy = csp(synth, env)
    for directive in (
        "script-src 'self';",
        "default-src 'self';",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    # Connections: the origin, the documents bucket's regional endpoint, Cognito (domain and issuer)
    assert "connect-src 'self' https://" in policy
    assert "RegionalDomainName" in policy
    assert "SignInDomain" in policy and ".auth.eu-west-3.amazoncognito.com" in policy
    assert "https://cognito-idp.eu-west-3.amazonaws.com" in policy
    # Every behaviour, the API's included, answers with these headers
    _, config = distribution(synth, env)
    for behaviour in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert "ResponseHeadersPolicyId" in behaviour


def test_access_logs_price_class_and_tls(synth: Synth) -> None:
    for env in ("dev", "prod"):
        _, config = distribution(synth, env)
        assert config["Logging"]["Bucket"]["Fn::GetAtt"][1] == "RegionalDomainName"
        assert config["PriceClass"] == "PriceClass_100"
        assert config["HttpVersion"] == "http2and3"
    # prod: its custom domain with the us-east-1 certificate named in cdk.json
    _, prod = distribution(synth, "prod")
    assert prod["Aliases"] == ["patronus.example.com"]
    certificate = prod["ViewerCertificate"]
    assert certificate["SslSupportMethod"] == "sni-only"
    assert certificate["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert ":acm:us-east-1:${AWS::AccountId}:certificate/" in certificate["AcmCertificateArn"]["Fn::Sub"]
    # dev: the distribution's own name and certificate
    _, dev = distribution(synth, "dev")
    assert "Aliases" not in dev


def test_the_managed_login_domain_is_version_2_on_the_configured_prefix(synth: Synth) -> None:
    for env, prefix in (("dev", "patronus-dev-example"), ("prod", "patronus-example")):
        synth.template(env, "api").has_resource_properties(
            "AWS::Cognito::UserPoolDomain", {"Domain": prefix, "ManagedLoginVersion": 2}
        )


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_app_client_is_code_flow_only_without_secret_on_the_applications_origin(
    synth: Synth, env: str
) -> None:
    client_id, client = only(synth, env, "AWS::Cognito::UserPoolClient")
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["GenerateSecret"] is False
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert not {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"} & set(
        client["ExplicitAuthFlows"]
    )
    callbacks, logouts = client["CallbackURLs"], client["LogoutURLs"]
    assert len(callbacks) == len(logouts) == 1
    if env == "prod":
        assert callbacks == ["https://patronus.example.com/auth/callback"]
        assert logouts == ["https://patronus.example.com/signed-out"]
    else:
        distribution_id, _ = distribution(synth, env)
        domain = {"Fn::GetAtt": [distribution_id, "DomainName"]}
        assert callbacks == [{"Fn::Join": ["", ["https://", domain, "/auth/callback"]]}]
        assert logouts == [{"Fn::Join": ["", ["https://", domain, "/signed-out"]]}]
    # Token lifetimes from cdk.json (minutes)
    assert (client["IdTokenValidity"], client["AccessTokenValidity"], client["RefreshTokenValidity"]) == (
        60,
        60,
        720,
    )
    _, style = only(synth, env, "AWS::Cognito::ManagedLoginBranding")
    assert style["ClientId"] == {"Ref": client_id}
    assert style["UseCognitoProvidedValues"] is True


def test_config_json_is_written_at_deploy_with_the_pools_issuer_and_the_client(synth: Synth) -> None:
    deployments = resources(synth, "dev", "Custom::CDKBucketDeployment")
    pages = next(d["Properties"] for d in deployments.values() if d["Properties"].get("Prune"))
    markers = json.dumps(pages["SourceMarkers"])
    client_id, _ = only(synth, "dev", "AWS::Cognito::UserPoolClient")
    assert "ProviderURL" in markers and client_id in markers
    assert pages["SystemMetadata"] == {"cache-control": "no-cache"}
    assert pages["Exclude"] == ["assets/*"]  # pruning leaves the hashed files of earlier releases
    assert pages["DistributionPaths"] == ["/*"]
    assets = next(d["Properties"] for d in deployments.values() if not d["Properties"].get("Prune"))
    assert assets["DestinationBucketKeyPrefix"] == "assets/"
    assert assets["SystemMetadata"] == {"cache-control": "public, max-age=31536000, immutable"}
    # The staged config.json has every key the application reads (web/src/config.ts)
    staged = next(Path(synth.stages["dev"].outdir).parent.glob(f"asset.*/{contract.CONFIG_FILE}"))
    config = json.loads(
        staged.read_text().replace("<<marker:0xbaba:0>>", '"a"').replace("<<marker:0xbaba:1>>", '"b"')
    )
    source = (Path("web") / "src" / "config.ts").read_text()
    for key in config:
        assert f'"{key}"' in source, key
    assert config["redirect_path"] == "/auth/callback" and config["api_base"] == "/"
    assert config["unit_prefix"] == "unit-"  # the API's api.unit_prefix


def sdk_call(value: Any) -> dict[str, Any]:
    """A custom resource's SDK call, its CloudFormation references written as ``<Ref>``."""
    if isinstance(value, str):
        return dict(json.loads(value))
    parts = value["Fn::Join"][1]
    return dict(json.loads("".join(p if isinstance(p, str) else "<Ref>" for p in parts)))


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_documents_bucket_allows_the_applications_origin_only(synth: Synth, env: str) -> None:
    _, cors = only(synth, env, "Custom::AWS")
    create, update, delete = (sdk_call(cors[key]) for key in ("Create", "Update", "Delete"))
    assert create == update
    assert (create["action"], delete["action"]) == ("putBucketCors", "deleteBucketCors")
    assert create["parameters"]["Bucket"] == delete["parameters"]["Bucket"] == "<Ref>"
    ((rule),) = create["parameters"]["CORSConfiguration"]["CORSRules"]
    if env == "prod":
        assert rule["AllowedOrigins"] == ["https://patronus.example.com"]
    else:  # the distribution's name, and the development origin cdk.json lists for dev
        assert rule["AllowedOrigins"] == ["https://<Ref>", "http://localhost:5173"]
    assert set(rule["AllowedMethods"]) == {"GET", "HEAD", "PUT", "POST"}
    assert "ETag" in rule["ExposeHeaders"]
    # Its function may change the CORS rules of the documents bucket and nothing else
    statements = [
        statement
        for policy in resources(synth, env, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "s3:PutBucketCORS" in json.dumps(statement["Action"])
    ]
    ((statement),) = statements
    assert statement["Action"] == "s3:PutBucketCORS"
    assert "Fn::ImportValue" in statement["Resource"]


def test_a_missing_build_fails_synth_with_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"index.html: missing; build the web application first \(make web"):
        built_application(tmp_path)
    (tmp_path / "index.html").write_text("<!doctype html>")
    assert built_application(tmp_path) == tmp_path


def test_prod_needs_no_cors_for_its_api_and_dev_keeps_it_for_its_development_origin(synth: Synth) -> None:
    def preflights(env: str) -> list[Any]:
        methods = synth.template(env, "api").find_resources("AWS::ApiGateway::Method")
        return [m for m in methods.values() if m["Properties"]["HttpMethod"] == "OPTIONS"]

    # prod: the application calls the API on its own origin (web_origins is empty)
    assert preflights("prod") == []
    # dev: the development origin cdk.json lists (web_origins) still gets its preflights
    assert preflights("dev")
