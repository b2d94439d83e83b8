"""cfn-lint over every synthesized template: no error."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_all
from cfnlint.api import lint_file as lint

from tests.infrastructure.conftest import Synth

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def findings(synth: Synth) -> dict[str, list[str]]:
    config = ManualArgs(regions=["eu-west-3"])
    results: dict[str, list[str]] = {}
    for template in synth.template_files():
        matches = lint(Path(template), config=config)
        results[template.name] = [f"{m.rule.id} {m.message} ({m.linenumber})" for m in matches]
    return results


def test_every_template_was_linted(findings: dict[str, list[str]]) -> None:
    # 6 stacks x (dev, prod), and prod's legacy migration, backup and backup copy stacks
    assert len(findings) == 15
    assert [name for name in findings if name.startswith("prodMigration")]


def test_no_cfn_lint_error(findings: dict[str, list[str]]) -> None:
    errors = {name: [f for f in found if f.startswith("E")] for name, found in findings.items()}
    assert {name: found for name, found in errors.items() if found} == {}


def test_lint_all_is_importable() -> None:
    assert callable(lint_all)
