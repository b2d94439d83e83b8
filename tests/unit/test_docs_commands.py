"""Every `python -m scripts.<tool> --flag` that README.md and docs/ show exists, flag by flag.

The commands are read where an operator would copy them: fenced code blocks (continuation
lines joined) and inline code spans. Each tool's parser is captured from its own ``main`` (the
call stops at ``parse_args``), so a renamed or removed flag fails here, not on the day.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", REPO / "scripts" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
COMMAND = re.compile(r"python -m (scripts\.[A-Za-z_][A-Za-z0-9_]*)(.*)")
FLAG = re.compile(r"(?<![\w-])(--[A-Za-z][A-Za-z0-9-]*)")
FENCE = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")
# Where a shell command ends and another program's flags may start.
COMMAND_END = re.compile(r"\s(?:\||&&|;|>|2>)\s|\$\(")


# Options a tool requires unless another is given (checked in its main, not by argparse).
REQUIRED_UNLESS = {"scripts.rewrite_refs": {"--bucket": "--rollback"}}


class _Captured(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__(parser.prog)
        self.parser = parser


@cache
def parser_of(module_name: str) -> argparse.ArgumentParser:
    module = importlib.import_module(module_name)

    def capture(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        raise _Captured(self)

    original = argparse.ArgumentParser.parse_known_args
    argparse.ArgumentParser.parse_known_args = capture  # type: ignore[assignment,method-assign]
    try:
        module.main([])
    except _Captured as captured:
        return captured.parser
    finally:
        argparse.ArgumentParser.parse_known_args = original  # type: ignore[method-assign]
    raise AssertionError(f"{module_name}.main never parsed its arguments")


def options_of(module_name: str) -> frozenset[str]:
    return frozenset(parser_of(module_name)._option_string_actions)


def required_of(module_name: str, flags: list[str]) -> list[str]:
    actions = parser_of(module_name)._actions
    required = [a.option_strings[0] for a in actions if a.required and a.option_strings]
    unless = REQUIRED_UNLESS.get(module_name, {})
    return required + [flag for flag, other in unless.items() if other not in flags]


def commands(text: str) -> Iterator[str]:
    for block in FENCE.findall(text):
        yield from block.replace("\\\n", " ").splitlines()
    yield from INLINE.findall(FENCE.sub("", text))


def documented() -> list[tuple[str, str, str]]:
    found = []
    for document in DOCUMENTS:
        for line in commands(document.read_text(encoding="utf-8")):
            for match in COMMAND.finditer(line):
                rest = COMMAND_END.split(match.group(2), maxsplit=1)[0]
                found.append((document.relative_to(REPO).as_posix(), match.group(1), rest))
    return found


DOCUMENTED = documented()


def test_the_docs_show_the_migration_tools() -> None:
    tools = {tool for _, tool, _ in DOCUMENTED}
    assert {"scripts.db_import", "scripts.db_verify", "scripts.cutover_gate", "scripts.rewrite_refs"} <= tools


@pytest.mark.parametrize(("document", "tool", "arguments"), DOCUMENTED, ids=lambda value: str(value)[:40])
def test_each_documented_command_and_flag_exists(document: str, tool: str, arguments: str) -> None:
    assert (REPO / (tool.replace(".", "/") + ".py")).exists(), f"{document}: no module {tool}"
    known = options_of(tool)
    flags = FLAG.findall(arguments)
    unknown = [flag for flag in flags if flag not in known]
    assert not unknown, f"{document}: {tool} has no option {', '.join(unknown)}"
    # A command shown with arguments is shown whole: its required options are there
    shown_whole = flags and "--help" not in flags
    missing = [flag for flag in required_of(tool, flags) if shown_whole and flag not in flags]
    assert not missing, f"{document}: {tool} {arguments.strip()[:60]}... lacks {', '.join(missing)}"


def test_an_unknown_flag_is_caught() -> None:
    # The check itself: a flag that no tool has is reported
    assert "--no-such-flag" not in options_of("scripts.db_verify")
    assert "--source-url" in options_of("scripts.db_verify")
