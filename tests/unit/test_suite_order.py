"""The test run reports the fast suites first, and a hung test has a time limit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SUITE_ORDER, TESTS, pytest_collection_modifyitems, suite_rank


@dataclass
class FakeItem:
    path: Path


def test_items_are_ordered_unit_infrastructure_integration_e2e_hardening() -> None:
    # Given items collected in pytest's alphabetical order of folders
    collected = [
        TESTS / "e2e" / "test_walkthrough.py",
        TESTS / "hardening" / "test_load.py",
        TESTS / "infrastructure" / "test_api.py",
        TESTS / "integration" / "test_migrations.py",
        TESTS / "unit" / "test_flags.py",
        TESTS / "unit" / "test_dump_parser.py",
    ]
    items = [FakeItem(path) for path in collected]
    # When the collection hook orders them
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    # Then the suites come fastest first, and the order inside a suite is kept
    assert [item.path.relative_to(TESTS).as_posix() for item in items] == [
        "unit/test_flags.py",
        "unit/test_dump_parser.py",
        "infrastructure/test_api.py",
        "integration/test_migrations.py",
        "e2e/test_walkthrough.py",
        "hardening/test_load.py",
    ]


def test_every_suite_folder_is_ranked_and_nothing_else_is_lost() -> None:
    folders = sorted(p.name for p in TESTS.iterdir() if p.is_dir() and list(p.glob("test_*.py")))
    assert sorted(SUITE_ORDER) == folders
    assert suite_rank(TESTS / "conftest.py") == len(SUITE_ORDER)
    assert suite_rank(Path("/elsewhere/test_x.py")) == len(SUITE_ORDER)


def test_a_hung_test_fails_after_the_configured_timeout(pytestconfig: pytest.Config) -> None:
    assert 0 < float(pytestconfig.getini("timeout")) <= 300
