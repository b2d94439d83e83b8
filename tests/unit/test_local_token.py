"""scripts.local_token signs with the secret of the data folder `make run` uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import local_token
from scripts.devstack.paths import DEFAULT_DATA_DIR, local_data_dir
from scripts.devstack.tokens import InvalidToken, load_secret, verify


def test_the_token_is_signed_with_the_secret_of_patronus_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a custom data folder, as `PATRONUS_DATA_DIR=... make run` would use
    monkeypatch.setenv("PATRONUS_DATA_DIR", str(tmp_path))
    secret = load_secret(tmp_path / "token-secret")
    # When a token is asked for without --data-dir
    assert local_token.main(["alice", "--groups", "readers"]) == 0
    token = capsys.readouterr().out.strip()
    # Then the stack of that folder accepts it, and another secret does not
    assert verify(secret, token)["cognito:groups"] == ["readers"]
    with pytest.raises(InvalidToken):
        verify(b"another-secret" * 2, token)


def test_the_data_folder_defaults_to_dot_local_and_ignores_a_blank_variable() -> None:
    assert local_data_dir({}) == DEFAULT_DATA_DIR
    assert local_data_dir({"PATRONUS_DATA_DIR": "  "}) == DEFAULT_DATA_DIR
    assert local_data_dir({"PATRONUS_DATA_DIR": "/srv/patronus"}) == Path("/srv/patronus")
