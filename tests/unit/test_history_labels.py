"""Every audit action the services write has a label in the web application's history, in both
languages (an unknown one is shown as the API names it, e.g. ``document.scanning``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "layers" / "patronus" / "python" / "patronus" / "services"
ACTION = re.compile(r'"((?:dossier|document|grant)\.[a-z_]+)"')


def written_actions() -> set[str]:
    return {m for path in SERVICES.glob("*.py") for m in ACTION.findall(path.read_text(encoding="utf-8"))}


def test_the_services_write_the_actions_this_test_looks_for() -> None:
    # Guards the pattern above: if it found nothing, the test below could not fail
    assert {"dossier.created", "document.downloaded", "grant.given"} <= written_actions()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_action_written_has_a_history_label(language: str) -> None:
    catalogue = json.loads((ROOT / "web" / "src" / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    labels = catalogue["history"]["actions"]
    missing = sorted(a for a in written_actions() if a.replace(".", "_") not in labels)
    assert missing == []


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_scan_result_has_a_label(language: str) -> None:
    from patronus.services.documents import ScanResult

    catalogue = json.loads((ROOT / "web" / "src" / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    assert set(catalogue["history"]["scanResults"]) == {result.value for result in ScanResult}
    screen = (ROOT / "web" / "src" / "screens" / "DossierHistoryScreen.tsx").read_text(encoding="utf-8")
    assert all(f'"{result.value}"' in screen for result in ScanResult)
