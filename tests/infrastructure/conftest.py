"""Synthesis helpers for the infrastructure tests.

Template tests synthesize once per module (module-scoped fixtures over a cached synth), skip
asset bundling (``aws:cdk:bundling-stacks: []``) and aws-cdk-lib's built-in CloudFormation
validation (``CDK_VALIDATION=false``) to stay fast. One test synthesizes for real, with local
bundling and SAM asset metadata.
"""

from __future__ import annotations

import json
import os

# Read by the jsii (node) process when it starts, so it must be set before aws_cdk is imported.
os.environ["CDK_VALIDATION"] = "false"
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build_app
from stacks.stage import PatronusStage

REPO_ROOT = Path(__file__).resolve().parents[2]
STACKS = ("network", "database", "storage", "api", "web", "monitoring")
# Only where legacy_migration.enabled (prod in cdk.json): the one-off DMS and DataSync stack.
LEGACY_MIGRATION = "legacy_migration"
# Only where backup.enabled (prod): AWS Backup, and the copies' vault in the second region.
OPTIONAL = (LEGACY_MIGRATION, "backup", "backup_copy")


def cdk_context(**extra: Any) -> dict[str, Any]:
    """The context of cdk.json during the legacy migration, plus ``extra``.

    cdk.json ships with the migration stack off (a first deploy must succeed before its secrets
    and agent exist); the tests switch it on in prod, as the migration runbook does, so that the
    shared synth, cdk-nag and cfn-lint cover it.
    """
    context = with_overrides(
        dict(json.loads((REPO_ROOT / "cdk.json").read_text())["context"]),
        "prod",
        {"legacy_migration.enabled": True},
    )
    context.update(extra)
    return context


def with_overrides(context: dict[str, Any], env: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``context`` where ``patronus.environments.<env>`` gets ``overrides`` merged in."""
    patched = json.loads(json.dumps(context))
    target = patched["patronus"]["environments"][env]
    for dotted, value in overrides.items():
        node = target
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return patched


class Synth:
    """A synthesized app: stages by environment name, templates by (env, stack)."""

    def __init__(self, app: cdk.App, stages: list[PatronusStage], assembly: cdk.cx_api.CloudAssembly) -> None:
        self.app = app
        self.stages = {stage.config.name: stage for stage in stages}
        self.assembly = assembly
        self._templates: dict[tuple[str, str], Template] = {}

    def stack(self, env: str, name: str) -> cdk.Stack:
        stack: cdk.Stack | None = getattr(self.stages[env], name)
        assert stack is not None, f"{env} has no {name} stack"
        return stack

    def stack_names(self, env: str) -> tuple[str, ...]:
        """The stacks of ``env``: the six of every stage, plus the optional ones it has (legacy
        migration, backup and the backup copy's vault)."""
        stage = self.stages[env]
        return STACKS + tuple(name for name in OPTIONAL if getattr(stage, name) is not None)

    def template(self, env: str, name: str) -> Template:
        key = (env, name)
        if key not in self._templates:
            self._templates[key] = Template.from_stack(self.stack(env, name))
        return self._templates[key]

    def template_files(self) -> list[Path]:
        files = []
        for env, stage in self.stages.items():
            for name in self.stack_names(env):
                files.append(Path(stage.outdir) / self.stack(env, name).template_file)
        return files


def synthesize(
    outdir: Path,
    *,
    nag: bool = False,
    bundling: bool = False,
    asset_metadata: bool = False,
    context: dict[str, Any] | None = None,
) -> Synth:
    """Synthesize the app of cdk.json (or ``context``) into ``outdir``."""
    ctx = dict(context if context is not None else cdk_context())
    if not bundling:
        ctx["aws:cdk:bundling-stacks"] = []
    if asset_metadata:
        ctx["aws:cdk:enable-asset-metadata"] = True
    app = cdk.App(context=ctx, outdir=str(outdir))
    _, stages = build_app(app, nag=nag)
    assembly = app.synth()
    return Synth(app, stages, assembly)


@cache
def _shared(outdir: str) -> Synth:
    return synthesize(Path(outdir))


@pytest.fixture(scope="session")
def _shared_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdk-out")


@pytest.fixture(scope="module")
def synth(_shared_outdir: Path) -> Iterator[Synth]:
    """Both environments of cdk.json, synthesized once and shared by the template modules."""
    yield _shared(str(_shared_outdir))
