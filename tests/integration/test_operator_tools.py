"""The operator tools as the runbooks call them: ``python -m scripts.<tool>`` or a file path.

The flags come from the documents (README.md, docs/migration.md, docs/operations.md), read
independently of the code: every flag a runbook shows must be one the tool's parser knows.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = (
    "db_import",
    "db_verify",
    "dms_preflight",
    "datasync_run",
    "files_verify",
    "catalog_legacy",
    "rewrite_refs",
    "smoke_test",
)
DOCUMENTS = ("README.md", "docs/migration.md", "docs/operations.md")
_CALL = re.compile(r"(?:python -m scripts\.|python scripts/)(?P<tool>\w+)(?:\.py)?\b(?P<rest>[^\n`|]*)")
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def documented_flags() -> dict[str, set[str]]:
    """Each tool's flags as the documents show them (commands joined across ``\\`` line ends)."""
    flags: dict[str, set[str]] = {tool: set() for tool in TOOLS}
    for name in DOCUMENTS:
        text = (REPO / name).read_text(encoding="utf-8").replace("\\\n", " ")
        for call in _CALL.finditer(text):
            if call.group("tool") in flags:
                flags[call.group("tool")].update(_FLAG.findall(call.group("rest")))
    return flags


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_documents_show_flags_for_most_tools() -> None:
    # The reading of the documents finds the commands (else the next test would prove nothing)
    flags = documented_flags()
    assert {tool for tool, found in flags.items() if found} >= set(TOOLS) - {"dms_preflight"}
    assert {"--url", "--min-retention-hours", "--report"} <= flags["dms_preflight"]


@pytest.mark.parametrize("tool", TOOLS)
def test_every_documented_flag_is_one_the_tool_knows(tool: str) -> None:
    # When the tool is asked for its help the way the runbooks call it
    shown = run("-m", f"scripts.{tool}", "--help", cwd=REPO)
    # Then it answers, and every flag the documents show for it is in its help
    assert shown.returncode == 0, shown.stderr
    known = set(_FLAG.findall(shown.stdout))
    assert documented_flags()[tool] - {"--help"} <= known


@pytest.mark.parametrize("tool", TOOLS)
def test_each_tool_also_runs_as_a_file_from_any_folder(tool: str, tmp_path: Path) -> None:
    shown = run(str(REPO / "scripts" / f"{tool}.py"), "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "usage:" in shown.stdout


def test_the_smoke_test_loads_only_the_standard_library(tmp_path: Path) -> None:
    # Given an interpreter without site-packages, like the pipeline's image before boto3 loads
    # When the smoke test starts as the pipeline starts it (boto3 loads on the first AWS call)
    command = ("-S", "-X", "importtime", str(REPO / "scripts" / "smoke_test.py"), "--help")
    started = run(*command, cwd=tmp_path)
    # Then it starts, and every module it loaded is the standard library's or the project's
    assert started.returncode == 0, started.stderr
    lines = [line for line in started.stderr.splitlines() if re.match(r"import time:\s+\d", line)]
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in lines}
    tried = {name for name in loaded if importlib.util.find_spec(name) is None}  # optional, absent
    assert "scripts" in loaded
    # (the project's own: scripts, and the TOTP of functions/smoke_user)
    assert loaded - tried - {"scripts", "patronus_smoke_user"} <= sys.stdlib_module_names
