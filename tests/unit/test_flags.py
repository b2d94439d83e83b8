"""The one parser of on/off switches: the settings, the tracer rule and db_migrate agree."""

from __future__ import annotations

import pytest

from patronus.flags import FlagError, env_flag
from patronus.observability import tracing_enabled
from patronus.settings import Settings, SettingsError
from patronus_db_migrate.settings import SchemaMigrationSettings

BASE = {"PATRONUS_DB_URL": "mysql://u@h/db", "PATRONUS_BUCKET": "bucket"}
MIGRATE_BASE = {
    "PATRONUS_DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-3:1:secret:x",
    "PATRONUS_DB_HOST": "h",
}


@pytest.mark.parametrize("value", ["1", "true", "TRUE", " yes ", "on", "On\n", "y", "t"])
def test_on_words_read_as_true(value: str) -> None:
    assert env_flag({"X": value}, "X") is True


@pytest.mark.parametrize("value", ["0", "false", " False", "no", "OFF", "n", "f"])
def test_off_words_read_as_false(value: str) -> None:
    assert env_flag({"X": value}, "X", default=True) is False


@pytest.mark.parametrize("value", [None, "", "   "])
def test_unset_or_blank_takes_the_default(value: str | None) -> None:
    environ = {} if value is None else {"X": value}
    assert env_flag(environ, "X") is False
    assert env_flag(environ, "X", default=True) is True


def test_other_words_are_refused_with_the_variable_name() -> None:
    with pytest.raises(FlagError, match=r"PATRONUS_DB_TLS.*'enabled'"):
        env_flag({"PATRONUS_DB_TLS": "enabled"}, "PATRONUS_DB_TLS")


@pytest.mark.parametrize(("value", "expected"), [(" on ", True), ("off", False), ("Yes", True), ("0", False)])
def test_every_reader_agrees_on_the_same_word(value: str, expected: bool) -> None:
    # Given one word for every switch; When each reader reads it; Then all agree
    settings = Settings.from_env({**BASE, "PATRONUS_DB_TLS": value, "PATRONUS_DB_IAM_AUTH": value})
    assert settings.database.tls is expected and settings.database.iam_auth is expected
    migrate = SchemaMigrationSettings.from_env(
        {**MIGRATE_BASE, "PATRONUS_DB_TLS": value, "PATRONUS_DB_IAM_USER": value}
    )
    assert migrate.tls is expected and migrate.iam_user is expected
    lambda_env = {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": value}
    assert tracing_enabled(lambda_env) is (not expected)


def test_settings_refuse_a_bad_switch_by_name() -> None:
    with pytest.raises(SettingsError, match="PATRONUS_DB_IAM_AUTH"):
        Settings.from_env({**BASE, "PATRONUS_DB_IAM_AUTH": "sometimes"})
    with pytest.raises(SettingsError, match="PATRONUS_DB_IAM_USER"):
        SchemaMigrationSettings.from_env({**MIGRATE_BASE, "PATRONUS_DB_IAM_USER": "sometimes"})
