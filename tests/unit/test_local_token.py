"""scripts.local_token signs with the key of the data folder `make run` uses, for its issuer."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import local_token
from scripts.devstack.paths import DEFAULT_DATA_DIR, local_data_dir
from scripts.devstack.tokens import (
    KEY_FILE,
    WEB_CLIENT_ID,
    InvalidToken,
    SigningKey,
    TokenVerifier,
    issuer_url,
    record_issuer,
)


def verifier_of(data_dir: Path, issuer: str) -> TokenVerifier:
    key = SigningKey.load_or_create(data_dir / KEY_FILE)
    return TokenVerifier({"keys": [key.public_jwk()]}, issuer, (WEB_CLIENT_ID,))


def test_the_token_is_signed_with_the_key_of_patronus_data_dir_for_the_recorded_issuer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a custom data folder, as `PATRONUS_DATA_DIR=... make run --port 9090` leaves it
    monkeypatch.setenv("PATRONUS_DATA_DIR", str(tmp_path))
    record_issuer(tmp_path, issuer_url(9090))
    # When a token is asked for without --data-dir
    assert local_token.main(["alice", "--groups", "readers,unit-a"]) == 0
    token = capsys.readouterr().out.strip()
    # Then the stack of that folder accepts it, with the groups asked for
    assert verifier_of(tmp_path, issuer_url(9090)).verify(token)["cognito:groups"] == ["readers", "unit-a"]
    # and a stack with another key, or another issuer, does not
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(InvalidToken):
        verifier_of(other, issuer_url(9090)).verify(token)
    with pytest.raises(InvalidToken, match="issuer"):
        verifier_of(tmp_path, issuer_url(8080)).verify(token)


def test_before_any_start_the_issuer_is_the_one_of_patronus_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATRONUS_PORT", "8181")
    assert local_token.main(["bob", "--data-dir", str(tmp_path)]) == 0
    token = capsys.readouterr().out.strip()
    assert verifier_of(tmp_path, issuer_url(8181)).verify(token)["sub"] == "bob"


def test_unknown_groups_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        local_token.main(["eve", "--groups", "superusers", "--data-dir", str(tmp_path)])
    assert "unknown group(s) superusers" in capsys.readouterr().err


def test_the_data_folder_defaults_to_dot_local_and_ignores_a_blank_variable() -> None:
    assert local_data_dir({}) == DEFAULT_DATA_DIR
    assert local_data_dir({"PATRONUS_DATA_DIR": "  "}) == DEFAULT_DATA_DIR
    assert local_data_dir({"PATRONUS_DATA_DIR": "/srv/patronus"}) == Path("/srv/patronus")
