"""The web application's Cognito app client and the style of its managed login pages.

A public client (no secret) for the authorization code flow only: no implicit flow, no client
credentials, no password sign-in through the API; the application always sends a PKCE challenge
(S256, oidc-client-ts). Its callback and sign-out URLs are the sign-in paths of
``stacks/web/contract.py`` on the application's origin only (the custom domain, else the
distribution's), which is why the client lives in the web stack, after the distribution, and not
with the user pool. Managed login (version 2) shows a client's pages only once a style is assigned
to it: the client gets Cognito's default style.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.web import contract


@dataclass(frozen=True)
class WebSignInProps:
    """Inputs of :class:`WebSignIn`.

    Attributes:
        user_pool: the pool of the API's users (its authorizer accepts this client's ID tokens).
        origin: the application's origin (``https://host``).
        id_token_minutes / access_token_minutes / refresh_token_hours: token lifetimes.
    """

    user_pool: cognito.IUserPool
    origin: str
    id_token_minutes: int
    access_token_minutes: int
    refresh_token_hours: int


class WebSignIn(Construct):
    """The app client and its managed login style; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: WebSignInProps) -> None:
        super().__init__(scope, construct_id)
        self.client = cognito.UserPoolClient(
            self,
            "AppClient",
            user_pool=props.user_pool,
            generate_secret=False,
            # The managed login pages sign users in; no sign-in API call from the browser.
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(
                    authorization_code_grant=True, implicit_code_grant=False, client_credentials=False
                ),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[props.origin + contract.REDIRECT_PATH],
                logout_urls=[props.origin + contract.LOGOUT_PATH],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.minutes(props.id_token_minutes),
            access_token_validity=Duration.minutes(props.access_token_minutes),
            refresh_token_validity=Duration.hours(props.refresh_token_hours),
        )
        self.style = cognito.CfnManagedLoginBranding(
            self,
            "SignInStyle",
            user_pool_id=props.user_pool.user_pool_id,
            client_id=self.client.user_pool_client_id,
            use_cognito_provided_values=True,
        )
