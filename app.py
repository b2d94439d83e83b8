#!/usr/bin/env python3
"""CDK entry point: one Stage per environment of ``cdk.json``, with cdk-nag over the whole app.

npx cdk synth                     # every environment
npx cdk synth -c env=dev          # one environment (faster)
npx cdk deploy -c env=dev "dev/*"
npx cdk synth -c pipeline=true    # the delivery pipeline and the environments it deploys
npx cdk deploy -c pipeline=true patronus-delivery   # once; then the pipeline updates itself
"""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import ConfigError, EnvironmentConfig, load_config, load_pipeline
from stacks.stage import PatronusStage

PIPELINE_STACK_ID = "Pipeline"


def _flag(value: object, key: str) -> bool:
    """A boolean context value: ``-c key=true`` arrives as a string, tests pass a bool. Strings are
    read by the one reader of on/off words (``patronus.flags``); a wrong one names the key."""
    from patronus.flags import FlagError, parse_flag  # importable once stacks is imported

    if value is None or isinstance(value, bool):
        return bool(value)
    if not str(value).strip():
        return False
    try:
        return parse_flag(str(value), name=key)
    except FlagError as exc:
        raise ConfigError(str(exc)) from exc


def _check_cross_region(
    names: list[str], configs: dict[str, EnvironmentConfig], deployer: str | None
) -> None:
    """CodePipeline's cross-region support (a stage with a stack in another region: the backup
    copy's vault) needs the pipeline's account at synth time: say which key gives it."""
    copying = [name for name in names if configs[name].backup.enabled and configs[name].backup.copy_to_region]
    if copying and deployer is None:
        raise ConfigError(
            "patronus.pipeline.account: needed with -c pipeline=true because "
            f"{', '.join(copying)} copies its backups to another region (backup.copy_to_region), "
            "which CodePipeline's cross-region support deploys from a replication bucket of the "
            "pipeline's account; or pass -c account=<id>"
        )


def build_app(app: cdk.App | None = None, *, nag: bool = True) -> tuple[cdk.App, list[PatronusStage]]:
    """Build the stages the context asks for; ``ConfigError`` names a wrong or missing key.

    With ``-c pipeline=true`` the app holds the pipeline stack and the stages it deploys, in the
    order of ``patronus.pipeline.environments``; otherwise one stage per environment (or the one
    ``-c env=`` names), for a deployment by hand.
    """
    app = app or cdk.App()
    context = app.node.try_get_context("patronus")
    selected = app.node.try_get_context("env")
    account = app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT")
    pipeline = load_pipeline(context)  # validated in every mode: a typo fails `make synth` too
    if _flag(app.node.try_get_context("pipeline"), "pipeline"):
        if pipeline is None:
            raise ConfigError("patronus.pipeline: missing (-c pipeline=true builds the delivery pipeline)")
        if selected is not None:
            raise ConfigError(
                "env: not with -c pipeline=true (the pipeline deploys patronus.pipeline.environments)"
            )
        configs = {config.name: config for config in load_config(context)}
        deployer = pipeline.account or account
        _check_cross_region(pipeline.environments, configs, deployer)
        stages = [
            PatronusStage(app, configs[name], account=account, deployer_account=deployer)
            for name in pipeline.environments
        ]
        from stacks.pipeline import PipelineStack  # only this mode needs aws_cdk.pipelines

        PipelineStack(
            app,
            PIPELINE_STACK_ID,
            config=pipeline,
            stages=stages,
            env=cdk.Environment(account=deployer, region=pipeline.region),
            stack_name=pipeline.name,
            termination_protection=True,
        )
    else:
        environments: list[EnvironmentConfig] = load_config(context, only=selected)
        stages = [PatronusStage(app, config, account=account) for config in environments]
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
