"""What the web application's origin promises the application, locally and in AWS, in one place.

The runtime configuration (``/config.json``, whose keys ``web/src/config.ts`` reads), the sign-in
paths registered with the OpenID Connect provider, and the security headers of every answer.
CloudFront's response headers policy and the deployment's ``config.json`` (``stacks/web/``) and the
local gateway (``scripts/devstack/webapp.py``) are all built from here, so the browser meets the
same policy and configuration locally and in AWS. Only the sources the application may connect
to differ: the documents bucket's endpoint (presigned uploads) and, in AWS, Cognito (the OpenID
Connect discovery document on the issuer's host, the token endpoint on the managed login domain).

This module imports nothing from aws-cdk-lib: the local stack uses it without the CDK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

CONFIG_FILE = "config.json"
# Where the OpenID Connect provider sends the browser back after sign-in and after sign-out.
REDIRECT_PATH = "/auth/callback"
LOGOUT_PATH = "/signed-out"
# Two years, the value HSTS preload lists ask for.
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 3600
REFERRER_POLICY = "strict-origin-when-cross-origin"
FRAME_OPTIONS = "DENY"


def content_security_policy(connect_sources: Sequence[str]) -> str:
    """The Content-Security-Policy: everything from the application's own origin only, scripts
    included (no inline script, no eval), no framing by anyone, and connections to the origin
    plus ``connect_sources`` (absolute origins such as ``https://bucket.s3.eu-west-3.amazonaws.com``)."""
    for source in connect_sources:
        if not source.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError(f"connect source {source!r}: an https origin (or a local http one)")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            " ".join(["connect-src 'self'", *connect_sources]),
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    )


def runtime_config(
    *, authority: str, client_id: str, default_locale: str, unit_prefix: str
) -> Mapping[str, str]:
    """The application's ``config.json``: the OpenID Connect issuer and client, the API on the
    application's own origin, the sign-in paths, the language before the user chooses one and
    the prefix of the unit groups (the API's ``api.unit_prefix``)."""
    return {
        "authority": authority,
        "client_id": client_id,
        "api_base": "/",
        "redirect_path": REDIRECT_PATH,
        "logout_path": LOGOUT_PATH,
        "default_locale": default_locale,
        "unit_prefix": unit_prefix,
    }
