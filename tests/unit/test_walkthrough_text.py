"""The walkthrough has one text: the README shows what `make run` prints."""

from __future__ import annotations

from pathlib import Path

from scripts.devstack.paths import DEFAULT_DATA_DIR, WALKTHROUGH
from scripts.run_local import Stack, banner
from tests.readme import readme_walkthrough


def test_the_readme_shows_the_walkthrough_file() -> None:
    assert readme_walkthrough() == WALKTHROUGH.read_text()


def test_make_run_prints_the_walkthrough_file_as_it_is() -> None:
    # Given a stack on the default port and one on another port
    default = Stack(
        "http://127.0.0.1:8080", "http://127.0.0.1:8333", "mysql://root@h/p", "b", DEFAULT_DATA_DIR
    )
    other = Stack("http://127.0.0.1:9090", "http://127.0.0.1:8333", "mysql://root:pw@h/p", "b", Path("/d"))
    # When the banners are printed
    printed, printed_other = banner(default), banner(other)
    # Then both hold the walkthrough verbatim (copy-paste safe: no indentation added)
    assert "\n" + WALKTHROUGH.read_text() in printed
    assert "\n" + WALKTHROUGH.read_text() in printed_other
    # And the other says which port and data folder the walkthrough must use; no password is shown
    assert "export PATRONUS" not in printed
    assert "`export PATRONUS_PORT=9090; export PATRONUS_DATA_DIR=/d`" in printed_other
    assert "pw" not in printed_other


def test_the_walkthrough_stops_at_the_first_error_and_keeps_its_files_apart() -> None:
    text = WALKTHROUGH.read_text()
    assert text.startswith("bash -euo pipefail <<'WALKTHROUGH'\n") and text.endswith("\nWALKTHROUGH\n")
    curl_calls = [line for line in text.splitlines() if "curl " in line]
    assert curl_calls and all("--fail" in line for line in curl_calls)
    assert "mktemp -d" in text and "hello.txt >" not in text
