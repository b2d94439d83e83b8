"""Putting the built application in place at deploy time, and letting it upload to the documents.

The files of ``web/dist`` are copied to the site bucket by two deployments: the content-hashed
files under ``assets/`` first (cached a year, never pruned, so a page loaded before a release can
still fetch its lazy chunks), then ``index.html`` and the other files with ``config.json``, whose
values (the user pool's issuer, the app client) CloudFormation knows only at deploy time; both are
revalidated by browsers, and CloudFront's cache is invalidated. Nothing is built in a container:
the application is built by ``make web`` before the synth, which stages ``web/dist`` as assets.

The documents bucket lives in the storage stack, which deploys before the distribution exists;
its CORS rules name the application's origin, so they are written from here, by a custom resource
that calls ``PutBucketCors`` (and ``DeleteBucketCors`` when the web stack goes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Stack, Token
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.config import ConfigError
from stacks.nag import BASIC_EXECUTION, acknowledge
from stacks.web import contract

REPO_ROOT = Path(__file__).resolve().parents[2]
DIST = REPO_ROOT / "web" / "dist"
ASSETS = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# What the browser may do with the documents bucket: presigned POST and part PUTs, downloads.
CORS_METHODS = ("GET", "HEAD", "PUT", "POST")
CORS_EXPOSED_HEADERS = ("ETag", "x-amz-version-id", "x-amz-checksum-sha256")
CORS_MAX_AGE_SECONDS = 3000


def built_application(dist: Path = DIST) -> Path:
    """The application's build folder; a clear error when it was not built."""
    if not (dist / "index.html").is_file():
        raise ConfigError(
            f"{dist.relative_to(REPO_ROOT) if dist.is_relative_to(REPO_ROOT) else dist}/index.html: "
            "missing; build the web application first (make web; make synth does it)"
        )
    return dist


def cors_rules(origins: Sequence[str]) -> list[dict[str, object]]:
    """The documents bucket's CORS configuration (S3's ``CORSRules``) for ``origins`` only."""
    return [
        {
            "AllowedOrigins": list(origins),
            "AllowedMethods": list(CORS_METHODS),
            "AllowedHeaders": ["*"],
            "ExposeHeaders": list(CORS_EXPOSED_HEADERS),
            "MaxAgeSeconds": CORS_MAX_AGE_SECONDS,
        }
    ]


@dataclass(frozen=True)
class WebDeliveryProps:
    """Inputs of :class:`WebDelivery`.

    Attributes:
        site_bucket / distribution: where the files go, and whose cache to invalidate.
        runtime_config: the content of ``config.json`` (deploy-time values allowed).
        documents_bucket: the documents bucket, whose CORS rules name ``origins``.
        origins: browser origins allowed to upload and download documents.
        dist: the built application.
    """

    site_bucket: s3.IBucket
    distribution: cloudfront.IDistribution
    runtime_config: Mapping[str, str]
    documents_bucket: s3.IBucket
    origins: Sequence[str]
    dist: Path


class WebDelivery(Construct):
    """The two file deployments and the documents bucket's CORS rules; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: WebDeliveryProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.assets = s3deploy.BucketDeployment(
            self,
            "Assets",
            sources=[s3deploy.Source.asset(str(props.dist / ASSETS))],
            destination_bucket=props.site_bucket,
            destination_key_prefix=f"{ASSETS}/",
            prune=False,
            cache_control=[s3deploy.CacheControl.from_string(IMMUTABLE)],
            memory_limit=512,
        )
        self.pages = s3deploy.BucketDeployment(
            self,
            "Pages",
            sources=[
                s3deploy.Source.asset(str(props.dist), exclude=[ASSETS, ".vite"]),
                s3deploy.Source.json_data(contract.CONFIG_FILE, dict(props.runtime_config)),
            ],
            destination_bucket=props.site_bucket,
            # Pruning leaves the assets alone: they belong to the other deployment.
            exclude=[f"{ASSETS}/*"],
            prune=True,
            cache_control=[s3deploy.CacheControl.from_string(REVALIDATE)],
            distribution=props.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
        )
        self.pages.node.add_dependency(self.assets)
        self.documents_cors = self._build_documents_cors()
        self._acknowledge()

    def _build_documents_cors(self) -> cr.AwsCustomResource:
        bucket = self.props.documents_bucket.bucket_name
        put = cr.AwsSdkCall(
            service="S3",
            action="putBucketCors",
            parameters={"Bucket": bucket, "CORSConfiguration": {"CORSRules": cors_rules(self.props.origins)}},
            physical_resource_id=cr.PhysicalResourceId.of(f"documents-cors-{bucket}"),
        )
        return cr.AwsCustomResource(
            self,
            "DocumentsCors",
            on_create=put,
            on_update=put,
            on_delete=cr.AwsSdkCall(service="S3", action="deleteBucketCors", parameters={"Bucket": bucket}),
            # Both calls are authorised by s3:PutBucketCORS, on this one bucket.
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["s3:PutBucketCORS"], resources=[self.props.documents_bucket.bucket_arn]
                    )
                ]
            ),
            install_latest_aws_sdk=False,
        )

    def _acknowledge(self) -> None:
        """The findings on aws-cdk-lib's own functions: the bucket deployment (one per stack and
        memory size, shared by both deployments) and the SDK-call custom resource."""
        stack = Stack.of(self)
        deployment = next(
            child for child in stack.node.children if child.node.id.startswith("Custom::CDKBucketDeployment")
        )
        role = deployment.node.find_child("ServiceRole")
        acknowledge(
            role,
            f"AwsSolutions-IAM4[Policy::{BASIC_EXECUTION}]",
            "aws-cdk-lib's bucket deployment function: basic execution policy for its own logs.",
        )
        policy = role.node.find_child("DefaultPolicy")
        for finding, reason in _deployment_findings(stack, self.props.site_bucket):
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
        acknowledge(
            deployment,
            "AwsSolutions-L1",
            "aws-cdk-lib's bucket deployment function: its runtime is chosen and updated by "
            "aws-cdk-lib with the library (Dependabot), not by this project.",
        )
        provider = stack.node.find_child("AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", ""))
        acknowledge(
            provider.node.find_child("ServiceRole"),
            f"AwsSolutions-IAM4[Policy::{BASIC_EXECUTION}]",
            "aws-cdk-lib's SDK-call function (the documents bucket's CORS rules): basic execution "
            "policy for its own logs.",
        )


def _deployment_findings(stack: Stack, site_bucket: s3.IBucket) -> list[tuple[str, str]]:
    """The wildcards aws-cdk-lib grants its bucket deployment function, each with its reason."""
    site = stack.resolve(site_bucket.bucket_arn)["Fn::GetAtt"][0]
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    copy = (
        "aws-cdk-lib's bucket deployment reads the staged application from the CDK assets bucket "
        "and writes, overwrites and prunes it in the site bucket: object actions on those two "
        "buckets only."
    )
    return [
        *(
            (f"Action::s3:{action}*", copy)
            for action in ("GetBucket", "GetObject", "List", "Abort", "DeleteObject")
        ),
        (
            f"Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-{account}-{stack.region}/*",
            "The CDK bootstrap assets bucket, where the staged application's zip files are: read only.",
        ),
        (
            f"Resource::<{site}.Arn>/*",
            "Every file of the site bucket: the deployment copies and prunes them.",
        ),
        (
            "Resource::*",
            "cloudfront:CreateInvalidation and GetInvalidation, which aws-cdk-lib grants on every "
            "distribution: the function invalidates this stack's distribution only.",
        ),
    ]
