"""One HTTPS origin for the application and its API: a private bucket behind CloudFront.

The default behaviour serves the built application from a private S3 bucket through an origin
access control (the bucket refuses everyone else); a viewer-request function sends the
application's deep links to ``index.html``. ``/v1/*`` and ``/health`` go to the API Gateway stage
with caching disabled and every viewer header but ``Host`` forwarded (API Gateway answers only to
its own host name), so the browser calls the API on the page's own origin and needs no CORS. Every
answer carries the security headers of ``stacks/web/contract.py``. CloudFront writes standard
access logs to a bucket of their own, which also receives the application bucket's S3 access logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.nag import acknowledge
from stacks.web import contract

VIEWER_REQUEST_FUNCTION = Path(__file__).resolve().parent / "viewer_request.js"
# The API's paths, which CloudFront sends to API Gateway; everything else is the application's.
API_PATH_PATTERNS = ("/v1/*", "/health")


@dataclass(frozen=True)
class WebHostingProps:
    """Inputs of :class:`WebHosting`.

    Attributes:
        environment_name: ``dev``, ``prod``...: in descriptions.
        rest_api: the API whose deployment stage serves ``/v1/*`` and ``/health``.
        connect_sources: origins the application may connect to besides its own (the documents
            bucket, Cognito), for the Content-Security-Policy.
        domain_name / certificate: the optional custom domain and its us-east-1 certificate.
        price_class: which edge locations serve the application.
        access_logs_expiration_days: how long access logs are kept.
        removal_policy: what becomes of the buckets with the stack.
    """

    environment_name: str
    rest_api: apigw.RestApi
    connect_sources: Sequence[str]
    domain_name: str | None
    certificate: acm.ICertificate | None
    price_class: cloudfront.PriceClass
    access_logs_expiration_days: int
    removal_policy: RemovalPolicy


class WebHosting(Construct):
    """The buckets, the headers policy, the viewer-request function and the distribution."""

    def __init__(self, scope: Construct, construct_id: str, props: WebHostingProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.access_logs = self._build_access_log_bucket()
        self.bucket = self._build_site_bucket()
        self.headers_policy = self._build_headers_policy()
        self.viewer_request = cloudfront.Function(
            self,
            "DeepLinks",
            code=cloudfront.FunctionCode.from_file(file_path=str(VIEWER_REQUEST_FUNCTION)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Deep links of the application get index.html",
        )
        self.distribution = self._build_distribution()
        self._acknowledge()

    @property
    def origin(self) -> str:
        """The application's origin, as a browser writes it (``https://host``)."""
        domain = self.props.domain_name or self.distribution.distribution_domain_name
        return f"https://{domain}"

    def _build_access_log_bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "AccessLogs",
            # CloudFront's standard logs are delivered with an ACL grant, and S3 server access logs
            # only to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=self.props.removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(self.props.access_logs_expiration_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )

    def _build_site_bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "Site",
            # The application's public files: SSE-S3, which CloudFront's origin access control
            # reads without a key policy.
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="site-bucket/",
            removal_policy=self.props.removal_policy,
        )

    def _build_headers_policy(self) -> cloudfront.ResponseHeadersPolicy:
        csp = contract.content_security_policy(self.props.connect_sources)
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment=f"Patronus {self.props.environment_name}: CSP, HSTS, nosniff, no framing",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(contract.HSTS_MAX_AGE_SECONDS),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
        )

    def _build_distribution(self) -> cloudfront.Distribution:
        props = self.props
        api = cloudfront.BehaviorOptions(
            origin=origins.RestApiOrigin(props.rest_api),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.headers_policy,
            compress=False,
        )
        return cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Patronus {props.environment_name}: the web application and its API",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.viewer_request,
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                    )
                ],
            ),
            additional_behaviors=dict.fromkeys(API_PATH_PATTERNS, api),
            default_root_object="index.html",
            domain_names=[props.domain_name] if props.domain_name else None,
            certificate=props.certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=props.price_class,
            enable_logging=True,
            log_bucket=self.access_logs,
            log_file_prefix="cloudfront/",
            enable_ipv6=True,
        )

    def _acknowledge(self) -> None:
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the access log bucket of the distribution and the site bucket; logging it "
            "into itself would loop.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Patronus users may travel; the API authenticates every /v1 request with Cognito, so "
            "geographic restrictions would add no protection to the application's public files.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "A CloudFront web ACL must live in us-east-1 (a cross-region stack); the API behind "
            "/v1/* keeps its regional web ACL on the API Gateway stage, and the default behaviour "
            "serves only static files.",
        )
        if self.props.domain_name is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                f"No custom domain in {self.props.environment_name}: the *.cloudfront.net "
                "certificate's security policy is CloudFront's own; with web.domain_name the "
                "distribution uses TLSv1.2_2021.",
            )
