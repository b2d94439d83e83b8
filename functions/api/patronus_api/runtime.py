"""Objects that live for one execution environment: settings, the DB connection, services.

The handler loads the settings once from the environment; everything else is created on first
use, so a cold start that serves ``/health`` or a dossier route never imports boto3 nor the
document and storage modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from patronus.db import Database
from patronus.services.dossiers import DossierService
from patronus.settings import Settings

if TYPE_CHECKING:
    from patronus.services.documents import DocumentService
    from patronus.storage import DocumentStorage


class Runtime:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._s3_client: Any = None

    def load(self, environ: Mapping[str, str]) -> None:
        self.configure(Settings.from_env(environ))

    def configure(self, settings: Settings, *, s3_client: Any = None) -> None:
        """(Re)configure; drops the cached connection and services."""
        if "db" in self.__dict__:
            self.db.close()
        for name in ("db", "storage", "dossiers", "documents"):
            self.__dict__.pop(name, None)
        self._settings = settings
        self._s3_client = s3_client

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError("the API runtime is not configured")
        return self._settings

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database, region=self.settings.storage.region)

    @cached_property
    def storage(self) -> DocumentStorage:
        from patronus.storage import DocumentStorage  # documents routes only

        return DocumentStorage(self.settings.storage, client=self._s3_client)

    @cached_property
    def dossiers(self) -> DossierService:
        return DossierService(self.db)

    @cached_property
    def documents(self) -> DocumentService:
        from patronus.services.documents import DocumentService  # documents routes only

        return DocumentService(self.db, self.storage)


runtime = Runtime()
