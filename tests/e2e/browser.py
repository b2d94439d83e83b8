"""The web application in a real browser: Debian's Chromium driven by Playwright for Python.

Never a browser download: the executable is the system's (`scripts/system_deps.sh` installs it),
started headless with the network features that would call outside this machine turned off.
Every screen a test reaches is checked with axe-core (injected from the project's node_modules)
and may be saved as a screenshot for the README.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
# The README's screenshots are refreshed only on request (``make screenshots``), so that a test
# run leaves the working tree as it found it.
SCREENSHOTS = ROOT / "docs" / "images"
REFRESH_SCREENSHOTS = os.environ.get("PATRONUS_SCREENSHOTS") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# axe-core rules on impact: a screen may have none of these.
BLOCKING_IMPACTS = {"serious", "critical"}


def chromium_path() -> str:
    path = os.environ.get("PATRONUS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Chromium is missing: run `sudo bash scripts/system_deps.sh` (installs Debian's chromium)"
        )
    return path


def web_build_problem() -> str | None:
    """Why web/dist cannot be tested as it is (missing, or older than a source), else None."""
    index = ROOT / "web" / "dist" / "index.html"
    if not index.exists():
        return "web/dist is missing: run `make web` (make test and make test-e2e build it)"
    sources = [p for folder in ("src", "public") for p in (ROOT / "web" / folder).rglob("*") if p.is_file()]
    newest = max(sources, key=lambda p: p.stat().st_mtime)
    if newest.stat().st_mtime > index.stat().st_mtime:
        return f"web/dist is older than {newest.relative_to(ROOT)}: run `make web`"
    return None


def axe_source() -> str:
    for base in (ROOT / "node_modules", ROOT / "web" / "node_modules"):
        candidate = base / "axe-core" / "axe.min.js"
        if candidate.exists():
            return candidate.read_text(encoding="utf-8")
    pytest.fail("axe-core is missing: run `npm ci` (make test does)")


@dataclass
class AccessibilityLog:
    """What axe-core found on each screen, for the summary the tests print."""

    screens: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class Web:
    """The application of one local stack, seen from browser contexts."""

    def __init__(self, base_url: str, browser: Browser, log: AccessibilityLog) -> None:
        self.base_url = base_url
        self.browser = browser
        self.log = log
        self._axe = axe_source()
        self._contexts: list[BrowserContext] = []

    def context(self, *, locale: str = "fr-FR") -> BrowserContext:
        # bypass_csp lets the tests inject axe-core into the local sign-in page, whose
        # Content-Security-Policy allows no script at all.
        context = self.browser.new_context(
            base_url=self.base_url,
            locale=locale,
            viewport={"width": 1280, "height": 860},
            accept_downloads=True,
            bypass_csp=True,
        )
        context.set_default_timeout(15_000)
        self._contexts.append(context)
        return context

    def close(self) -> None:
        for context in self._contexts:
            context.close()

    def sign_in(
        self,
        page: Page,
        user: str,
        role: str = "editors",
        *,
        units: str = "unit-a",
        path: str = "/dossiers",
        lifetime: str | None = None,
        check: str | None = None,
        name: str | None = None,
    ) -> None:
        """Open `path`, be sent to the local sign-in page, pick the user, come back signed in."""
        page.goto(path)
        page.wait_for_url(re.compile(r"/oidc/oauth2/authorize"))
        if check:
            self.check(page, check)
            self.screenshot(page, "web-sign-in")
        self.fill_sign_in(page, user, role, units=units, lifetime=lifetime, name=name)
        page.wait_for_url(re.compile(re.escape(path.split("?")[0]) + r"($|\?)"))
        page.locator("header.header").wait_for()  # the application's frame is drawn

    @staticmethod
    def fill_sign_in(
        page: Page, user: str, role: str, *, units: str, lifetime: str | None = None, name: str | None = None
    ) -> None:
        page.locator("#username").fill(user)
        if name:
            page.locator("#name").fill(name)
        page.locator(f"input[name=role][value={role}]").check()
        page.locator("#units").fill(units)
        if lifetime:
            page.locator("#lifetime").select_option(lifetime)
        page.locator("button[type=submit]").click()

    def check(self, page: Page, screen: str) -> None:
        """axe-core on what the page shows now: no serious or critical violation."""
        page.evaluate(self._axe)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result["violations"]
        ]
        self.log.screens[screen] = violations
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"{screen}: {json.dumps(blocking, indent=2)}"

    @staticmethod
    def screenshot(page: Page, name: str) -> None:
        if not REFRESH_SCREENSHOTS:
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def stored_user(page: Page) -> dict[str, Any] | None:
    """The signed-in user oidc-client-ts keeps in the tab's session storage."""
    return page.evaluate(
        """() => { for (const k of Object.keys(sessionStorage))
            if (k.startsWith('oidc.user:')) return JSON.parse(sessionStorage.getItem(k));
          return null; }"""
    )


__all__ = ["CHROMIUM_ARGS", "AccessibilityLog", "Web", "chromium_path", "expect", "stored_user"]
