"""The synthesized templates the cost model reads: from a cdk.out folder, or synthesized here.

``cdk synth`` writes one assembly folder per environment (``assembly-<env>/``) with one
``*.template.json`` per stack. :func:`synthesize` builds the same app in this process (no asset
bundling: the templates are the same without it) into a temporary folder and reads it back.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scripts.operator_tools.toolkit import ToolError

Template = Mapping[str, Any]
# environment -> stack (file stem) -> template
Templates = dict[str, dict[str, Template]]
_ASSEMBLY_PREFIX = "assembly-"
_TEMPLATE_SUFFIX = ".template.json"


def read_cdk_out(folder: Path, environments: list[str] | None = None) -> Templates:
    """The templates of ``folder`` (a cdk.out), by environment; ``environments`` keeps some."""
    if not folder.is_dir():
        raise ToolError(f"{folder}: no such folder (run make synth, or leave --templates out)")
    found: Templates = {}
    for assembly in sorted(folder.glob(f"{_ASSEMBLY_PREFIX}*")):
        env = assembly.name[len(_ASSEMBLY_PREFIX) :]
        if environments and env not in environments:
            continue
        stacks = {
            path.name[: -len(_TEMPLATE_SUFFIX)]: _load(path)
            for path in sorted(assembly.glob(f"*{_TEMPLATE_SUFFIX}"))
        }
        if stacks:
            found[env] = stacks
    if not found:
        raise ToolError(f"{folder}: no environment's templates (assembly-<env>/*.template.json)")
    missing = sorted(set(environments or []) - set(found))
    if missing:
        raise ToolError(f"{folder}: no templates for {', '.join(missing)}")
    return found


def _load(path: Path) -> Template:
    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ToolError(f"{path}: not a readable template ({exc})") from exc
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise ToolError(f"{path}: not a CloudFormation template (no Resources)")
    return template


def synthesize(environments: list[str] | None = None, context: Mapping[str, Any] | None = None) -> Templates:
    """Synthesize the app of cdk.json (or ``context``) here and read its templates back."""
    os.environ.setdefault("CDK_VALIDATION", "false")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk  # lazily: reading a cdk.out needs no node process

    from app import build_app

    if context is None:
        root = Path(__file__).resolve().parents[3]
        context = json.loads((root / "cdk.json").read_text(encoding="utf-8"))["context"]
    with tempfile.TemporaryDirectory(prefix="patronus-cost-") as outdir:
        app = cdk.App(context={**context, "aws:cdk:bundling-stacks": []}, outdir=outdir)
        build_app(app, nag=False)
        app.synth()
        return read_cdk_out(Path(outdir), environments)
