"""cdk-nag AwsSolutions over the whole app: no finding left unacknowledged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import aws_ec2 as ec2

from tests.infrastructure.conftest import Synth, cdk_context, synthesize


@pytest.fixture(scope="module")
def nag_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Synth, Path]:
    outdir = Path(tmp_path_factory.mktemp("nag"))
    # Given the whole app (every environment) with AwsSolutionsChecks, When it is synthesized
    return synthesize(outdir, nag=True), outdir


def violations(outdir: Path) -> list[str]:
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    found = []
    for plugin in json.loads(report.read_text())["pluginReports"]:
        for violation in plugin["violations"]:
            for construct in violation["violatingConstructs"]:
                found.append(
                    f"{violation['severity']} {violation['ruleName']} at {construct['constructPath']}"
                )
    return found


def test_the_whole_app_has_no_unacknowledged_error_or_warning(nag_synth: tuple[Synth, Path]) -> None:
    synth, outdir = nag_synth
    # Then synthesis succeeded and the validation report lists nothing
    assert set(synth.stages) >= {"dev", "prod"}
    assert synth.stages["prod"].legacy_migration is not None, "the legacy migration stack is checked too"
    assert violations(outdir) == []


def test_nag_really_checks_the_app(tmp_path: Path) -> None:
    # Given the app plus a security group open to the internet (a real AwsSolutions error)
    import aws_cdk as cdk

    from app import build_app

    app = cdk.App(context={**cdk_context(env="dev"), "aws:cdk:bundling-stacks": []}, outdir=str(tmp_path))
    _, (stage,) = build_app(app)
    group = ec2.SecurityGroup(stage.network, "OpenToTheWorld", vpc=stage.network.vpc)
    group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(22))
    # When it is synthesized, Then synthesis fails and the report names the finding
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    assert violations(tmp_path) == ["error AwsSolutions-EC23 at dev/Network/OpenToTheWorld/Resource"]


def test_acknowledgments_are_scoped_to_resources_not_to_stacks() -> None:
    # Every acknowledgment is made through stacks.nag.acknowledge on a resource-level scope:
    # no stack, stage or app scope is ever passed.
    sources = "\n".join(p.read_text() for p in Path("stacks").glob("*.py"))
    for forbidden in ("acknowledge(self,", "acknowledge(self, ", "acknowledge(stack,", "acknowledge(app,"):
        assert forbidden not in sources
    assert "Validations.of(" in (Path("stacks") / "nag.py").read_text()
    assert sources.count("Validations.of(") == 1, "acknowledgments go through stacks.nag only"
