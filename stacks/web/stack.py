"""The web stack of an environment: the application and its API on one HTTPS origin, signed in
with Cognito's managed login.

It deploys after the storage and api stacks and wires three constructs: ``WebHosting`` (the
private site bucket, CloudFront with its behaviours and security headers, access logs),
``WebSignIn`` (the application's app client on the application's origin, its managed login style)
and ``WebDelivery`` (the files and ``config.json`` at deploy time, the documents bucket's CORS
rules for the application's origin).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Fn, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.api import ApiStack
from stacks.common import removal_policy
from stacks.config import EnvironmentConfig, WebConfig
from stacks.storage import StorageStack
from stacks.web import contract
from stacks.web.delivery import DIST, WebDelivery, WebDeliveryProps, built_application
from stacks.web.hosting import WebHosting, WebHostingProps
from stacks.web.sign_in import WebSignIn, WebSignInProps

PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


class WebStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        api: ApiStack,
        storage: StorageStack,
        dist: Path = DIST,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        web = config.web
        users = api.users
        domain = users.sign_in_domain
        assert domain is not None, "the web stack needs the managed login domain"
        self.hosting = WebHosting(
            self,
            "Hosting",
            WebHostingProps(
                environment_name=config.name,
                rest_api=api.gateway.rest_api,
                connect_sources=[
                    f"https://{storage.bucket.bucket_regional_domain_name}",
                    domain.base_url(),
                    f"https://cognito-idp.{self.region}.amazonaws.com",
                ],
                domain_name=web.domain_name,
                certificate=self._certificate(web),
                price_class=PRICE_CLASSES[web.price_class],
                access_logs_expiration_days=web.access_logs_expiration_days,
                removal_policy=removal_policy(config),
            ),
        )
        origin = self.hosting.origin
        self.sign_in = WebSignIn(
            self,
            "SignIn",
            WebSignInProps(
                user_pool=users.user_pool,
                origin=origin,
                id_token_minutes=web.id_token_minutes,
                access_token_minutes=web.access_token_minutes,
                refresh_token_hours=web.refresh_token_hours,
            ),
        )
        self.delivery = WebDelivery(
            self,
            "Delivery",
            WebDeliveryProps(
                site_bucket=self.hosting.bucket,
                distribution=self.hosting.distribution,
                runtime_config=contract.runtime_config(
                    authority=users.user_pool.user_pool_provider_url,
                    client_id=self.sign_in.client.user_pool_client_id,
                    default_locale=web.default_locale,
                    unit_prefix=config.api.unit_prefix,
                ),
                documents_bucket=storage.bucket,
                origins=[origin, *config.web_origins],
                dist=built_application(dist),
            ),
        )
        self.outputs = self._build_outputs(origin, domain)

    def _certificate(self, web: WebConfig) -> acm.ICertificate | None:
        if web.certificate_arn is None:
            return None
        # ${AWS::AccountId} and the like are substituted by CloudFormation (validated at synth).
        arn = Fn.sub(web.certificate_arn) if "${" in web.certificate_arn else web.certificate_arn
        return acm.Certificate.from_certificate_arn(self, "Certificate", arn)

    def _build_outputs(self, origin: str, domain: cognito.UserPoolDomain) -> dict[str, CfnOutput]:
        distribution = self.hosting.distribution
        return {
            name: CfnOutput(self, name, value=value, description=description)
            for name, value, description in (
                ("AppUrl", origin + "/", "The web application (and its API under /v1)"),
                (
                    "DistributionDomainName",
                    distribution.distribution_domain_name,
                    "Where the custom domain's DNS record points (CNAME or alias)",
                ),
                ("DistributionId", distribution.distribution_id, None),
                (
                    "AppClientId",
                    self.sign_in.client.user_pool_client_id,
                    "Cognito app client of the application",
                ),
                ("SignInUrl", domain.base_url(), "Cognito's managed login domain"),
            )
        }
