#!/usr/bin/env python3
"""CDK entry point: one Stage per environment of ``cdk.json``, with cdk-nag over the whole app.

npx cdk synth                 # every environment
npx cdk synth -c env=dev      # one environment (faster)
npx cdk deploy -c env=dev "dev/*"
"""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import ConfigError, EnvironmentConfig, load_config
from stacks.stage import PatronusStage


def build_app(app: cdk.App | None = None, *, nag: bool = True) -> tuple[cdk.App, list[PatronusStage]]:
    """Build the stages the context asks for; ``ConfigError`` names a wrong or missing key."""
    app = app or cdk.App()
    selected = app.node.try_get_context("env")
    configs: list[EnvironmentConfig] = load_config(app.node.try_get_context("patronus"), only=selected)
    account = app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT")
    stages = [PatronusStage(app, config, account=account) for config in configs]
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stages


def main() -> int:
    try:
        app, _ = build_app()
    except ConfigError as exc:
        print(f"cdk.json: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
