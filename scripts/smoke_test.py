#!/usr/bin/env python3
"""Smoke test of a deployed Patronus environment: /health, the web origin, one authenticated route.

The delivery pipeline runs it after each environment's deployment, with the api stack's
outputs; an operator can run it by hand after a deployment or a rollback::

    python scripts/smoke_test.py --api-url https://abc123.execute-api.eu-west-3.amazonaws.com/prod/ \\
        --user-pool-id eu-west-3_AbCdEf --client-id 1a2b3c... \\
        --secret-id arn:aws:secretsmanager:...:secret:SmokeTestCredentials... \\
        [--role-arn arn:aws:iam::123456789012:role/patronus-prod-smoke-test] [--report smoke.json] \\
        [--web-url https://patronus.example.com/]

Checks, in order:

1. ``health``: ``GET /health`` answers 200 with ``status: ok`` (the function runs and the
   database answers). Retried for a minute: a fresh version cold-starts, Aurora may be scaling.
2. ``anonymous``: the authenticated route without a token answers 401 (the authorizer is on).
   With ``--web-url`` (the web stack's output ``AppUrl``), through CloudFront: ``web_page`` (the
   application's page), ``web_deep_link`` (a screen's path answers with the application),
   ``web_config`` (``config.json`` names the sign-in issuer and client) and ``web_api``
   (``/health`` on the application's origin); each answer must carry the security headers
   (Content-Security-Policy with scripts from self only and no framing, nosniff, a referrer
   policy and, over HTTPS, HSTS for a year or more).
3. ``sign_in``: the smoke-test user signs in with the admin password flow of its own app client.
   Its credentials are in the Secrets Manager secret (``username``, ``password`` and, where MFA
   is required, ``totp_secret``, whose code answers the MFA challenge). The user is created and
   repaired at deployment by the api stack's custom resource, never by this script (its role may
   only read the secret and sign in): a refused sign-in fails the check and says how to repair.
4. ``authenticated``: the route (``--path``, default ``/v1/dossiers?limit=1``) with the ID token
   answers 200 with a JSON body.

Only boto3 and the standard library are needed (the pipeline installs nothing else). Exit
status: 0 when every check passes, 1 when one fails, 2 for a usage or configuration error. A JSON
report (``--report``) and a readable summary are written either way. ``--dry-run`` checks
``/health``, the anonymous answer and that the secret is readable, and signs nobody in.
The engine is ``scripts/operator_tools/smoke.py``.
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

if __package__ in {None, ""}:  # run as a file (as the pipeline does): make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.smoke import DEFAULT_PATH, DEFAULT_REGION, SmokeSettings, SmokeTest, summary


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Smoke-test a deployed Patronus environment: /health, then one authenticated route.",
        epilog="Exit status: 0 all checks passed, 1 a check failed, 2 usage or configuration error.",
    )
    parser.add_argument("--api-url", required=True, help="base URL of the REST API (output ApiUrl)")
    parser.add_argument("--user-pool-id", required=True, help="Cognito user pool id (output UserPoolId)")
    parser.add_argument(
        "--client-id", required=True, help="smoke-test app client id (output SmokeTestClientId)"
    )
    parser.add_argument(
        "--secret-id", required=True, help="secret of the smoke-test user (output SmokeTestSecretArn)"
    )
    parser.add_argument(
        "--role-arn", help="role to assume first (output SmokeTestRoleArn); default: own credentials"
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument(
        "--path", default=DEFAULT_PATH, help=f"authenticated route to call (default {DEFAULT_PATH})"
    )
    parser.add_argument("--attempts", type=int, default=6, help="attempts of the /health check (default 6)")
    parser.add_argument(
        "--retry-delay", type=float, default=5.0, help="seconds between attempts, growing (default 5)"
    )
    parser.add_argument(
        "--web-url", help="the web application's URL (output AppUrl of the web stack): checked too"
    )
    parser.add_argument("--report", type=Path, help="write the JSON report to this file")
    parser.add_argument(
        "--dry-run", action="store_true", help="sign nobody in: health, anonymous answer, the secret"
    )
    args = parser.parse_args(argv)
    url = urllib.parse.urlparse(args.api_url)
    if url.scheme not in {"http", "https"} or not url.netloc:
        parser.error(f"--api-url: not an http(s) URL: {args.api_url!r}")
    if args.web_url is not None:
        web = urllib.parse.urlparse(args.web_url)
        if web.scheme not in {"http", "https"} or not web.netloc:
            parser.error(f"--web-url: not an http(s) URL: {args.web_url!r}")
    if not args.path.startswith("/"):
        parser.error(f"--path: must start with '/': {args.path!r}")
    if args.attempts < 1 or args.retry_delay < 0:
        parser.error("--attempts must be at least 1 and --retry-delay not negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return toolkit.run(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    settings = SmokeSettings(
        api_url=args.api_url,
        user_pool_id=args.user_pool_id,
        client_id=args.client_id,
        secret_id=args.secret_id,
        role_arn=args.role_arn,
        region=args.region,
        path=args.path,
        attempts=args.attempts,
        retry_delay=args.retry_delay,
        dry_run=args.dry_run,
        web_url=args.web_url,
    )
    report = SmokeTest(settings).run()
    toolkit.write_report(args.report, report.to_json())
    print(summary(report))
    return toolkit.EXIT_OK if report.ok else toolkit.EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
