"""The functions learn from their environment whether uploads are scanned."""

from __future__ import annotations

import pytest

from patronus.settings import Settings, SettingsError

BASE = {"PATRONUS_DB_URL": "mysql://app@127.0.0.1:3306/patronus", "PATRONUS_BUCKET": "documents-bucket"}


def test_scanning_is_off_unless_the_stack_turns_it_on() -> None:
    assert Settings.from_env(BASE).malware_scanning is False
    assert Settings.from_env({**BASE, "PATRONUS_MALWARE_SCANNING": "true"}).malware_scanning is True
    assert Settings.from_env({**BASE, "PATRONUS_MALWARE_SCANNING": "false"}).malware_scanning is False


def test_a_wrong_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="PATRONUS_MALWARE_SCANNING"):
        Settings.from_env({**BASE, "PATRONUS_MALWARE_SCANNING": "sometimes"})
