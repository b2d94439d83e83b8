"""The document service for this execution environment, created on first use."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from patronus.db import Database
from patronus.services.documents import DocumentService
from patronus.settings import Settings
from patronus.storage import DocumentStorage

_settings: list[Settings] = []


def load(environ: Mapping[str, str]) -> None:
    configure(Settings.from_env(environ))


def configure(settings: Settings) -> None:
    if _settings:
        documents().db.close()
    documents.cache_clear()
    _settings[:] = [settings]


@cache
def documents() -> DocumentService:
    settings = _settings[0]
    return DocumentService(
        Database(settings.database, region=settings.storage.region), DocumentStorage(settings.storage)
    )
