"""The runtime pattern both application functions share (patronus.runtime)."""

from __future__ import annotations

import pytest

from patronus.runtime import Runtime, RuntimeNotConfigured
from patronus.settings import DatabaseSettings, Settings, StorageSettings

SETTINGS = Settings(
    database=DatabaseSettings.from_url("mysql://app@127.0.0.1:1/patronus"),
    storage=StorageSettings(bucket="documents", endpoint_url="http://127.0.0.1:1"),
)


def test_nothing_is_served_before_the_settings_are_loaded() -> None:
    with pytest.raises(RuntimeNotConfigured, match="document_events"):
        _ = Runtime("document_events").db


def test_the_environment_is_read_once_into_settings() -> None:
    runtime = Runtime()
    runtime.load({"PATRONUS_DB_URL": "mysql://app@db:3307/patronus", "PATRONUS_BUCKET": "documents"})
    assert (runtime.settings.database.host, runtime.settings.database.port) == ("db", 3307)
    assert runtime.db.settings is runtime.settings.database


def test_objects_are_built_once_and_rebuilt_after_a_new_configuration() -> None:
    # Given a configured runtime whose services were asked for
    runtime = Runtime()
    runtime.configure(SETTINGS, s3_client=object())
    db, documents = runtime.db, runtime.documents
    # Then each is built once, and the document service shares the connection and storage
    assert runtime.db is db and runtime.documents is documents
    assert documents.db is db and documents.storage is runtime.storage and runtime.dossiers.db is db
    # When it is configured again, Then everything is built anew from the new settings
    runtime.configure(SETTINGS.model_copy(update={"environment": "test"}))
    assert runtime.db is not db and runtime.documents is not documents


def test_each_function_has_its_own_runtime() -> None:
    from patronus_api.runtime import runtime as api_runtime
    from patronus_document_events.runtime import runtime as events_runtime

    assert isinstance(api_runtime, Runtime) and isinstance(events_runtime, Runtime)
    assert api_runtime is not events_runtime
