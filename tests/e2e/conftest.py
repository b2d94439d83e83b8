"""Fixtures of the browser tests: one Chromium for the session, a Web helper per test."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.conftest import LocalStack
from tests.e2e.browser import CHROMIUM_ARGS, AccessibilityLog, Web, chromium_path, web_build_problem

_AXE_LOG = AccessibilityLog()


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    instance = playwright_session.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def web(local_stack: LocalStack, browser: Browser) -> Iterator[Web]:
    problem = web_build_problem()
    if problem:
        pytest.fail(problem)
    app = Web(local_stack.url, browser, _AXE_LOG)
    try:
        yield app
    finally:
        app.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What axe-core found, screen by screen (the tests fail on serious or critical findings)."""
    if not _AXE_LOG.screens:
        return
    found: dict[str, list[str]] = defaultdict(list)
    for screen, violations in _AXE_LOG.screens.items():
        for violation in violations:
            found[f"{violation['id']} ({violation['impact']})"].append(screen)
    terminalreporter.write_line(
        f"axe-core: {len(_AXE_LOG.screens)} screens checked, none with a serious or critical violation"
        + "".join(f"; {rule} on: {', '.join(screens)}" for rule, screens in found.items())
    )
