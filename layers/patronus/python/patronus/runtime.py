"""What one execution environment keeps between invocations: settings, the connection, services.

Every function that serves the application (``api``, ``document_events``) wires itself the same
way: its package holds one :class:`Runtime` (``runtime = Runtime()``), its handler module calls
``runtime.load(os.environ)`` once at import, and code below the handler asks the runtime for the
database, the storage or a service. Nothing is created before it is first used, and the modules
of a service are imported only then (the database driver, which every request needs, is loaded
with the handler), so a cold start pays only for what the request needs: a dossier route never
imports boto3 nor the document and storage modules.

Each function has its own runtime, as each has its own execution environment in AWS; where several
functions share a process (the local stack, the tests) they still get one connection each.
``configure`` replaces the settings (tests, the local stack) and drops what was built from the
previous ones.

With SnapStart (:mod:`patronus.snapstart`) the runtime also takes part in the snapshot: before it,
:meth:`Runtime.import_services` loads every module a request may need and :meth:`Runtime.priming`
guards whatever warms the code against opening a connection (a snapshot must hold none); after a
restore, :meth:`Runtime.after_restore` drops the connection, the IAM token and every client built
before the snapshot.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from patronus.db import Database  # every function needs the database: loaded with the handler
from patronus.settings import Settings

if TYPE_CHECKING:
    from patronus.services.documents import DocumentService
    from patronus.services.dossiers import DossierService
    from patronus.services.grants import GrantService
    from patronus.services.people import PeopleService
    from patronus.storage import DocumentStorage

_BUILT = ("db", "storage", "dossiers", "documents", "grants", "people")
# What a request may import lazily: loaded before a snapshot, where the import costs nothing later.
SERVICE_MODULES = (
    "patronus.services.dossiers",
    "patronus.services.documents",
    "patronus.services.grants",
    "patronus.services.people",
    "patronus.storage",
    "boto3",
)


class RuntimeNotConfigured(RuntimeError):
    """A service was asked for before the handler loaded the settings."""


class PrimingTouchedDatabase(RuntimeError):
    """Code run to warm the function before a snapshot asked for the database."""


class Runtime:
    def __init__(self, name: str = "patronus") -> None:
        self.name = name
        self._settings: Settings | None = None
        self._s3_client: Any = None
        self._priming = False

    def load(self, environ: Mapping[str, str]) -> None:
        """Read the settings from the environment (``PATRONUS_*``); a bad value names the variable."""
        self.configure(Settings.from_env(environ))

    def configure(self, settings: Settings, *, s3_client: Any = None) -> None:
        """Use ``settings`` (and ``s3_client``, else one made on first use) from now on."""
        self.close()
        self._settings = settings
        self._s3_client = s3_client

    def close(self) -> None:
        """Close the connection and forget every object built from the current settings."""
        if "db" in self.__dict__:
            self.db.close()
        for name in _BUILT:
            self.__dict__.pop(name, None)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeNotConfigured(f"the {self.name} runtime has no settings: call load() first")
        return self._settings

    def import_services(self) -> None:
        """Import every module a request may load lazily (before a snapshot)."""
        for module in SERVICE_MODULES:
            importlib.import_module(module)

    @contextmanager
    def priming(self) -> Iterator[None]:
        """While warming the code before a snapshot: asking for the database raises
        :class:`PrimingTouchedDatabase` (a connection in a snapshot would be shared by every
        restored environment, and the database may not even be reachable at publish time)."""
        self.close()
        self._priming = True
        try:
            yield
        finally:
            self._priming = False
            self.close()

    def after_restore(self) -> None:
        """After a SnapStart restore: no connection, IAM token or client from before the snapshot
        survives; each is made again, fresh, by the first request that needs it. (A client given
        to :meth:`configure` is kept: it was chosen by the caller, not built here.)"""
        self.close()

    @cached_property
    def db(self) -> Database:
        if self._priming:
            raise PrimingTouchedDatabase(f"the {self.name} runtime was asked for the database while priming")
        return Database(self.settings.database, region=self.settings.storage.region)

    @cached_property
    def storage(self) -> DocumentStorage:
        from patronus.storage import DocumentStorage

        return DocumentStorage(self.settings.storage, client=self._s3_client)

    @cached_property
    def dossiers(self) -> DossierService:
        from patronus.services.dossiers import DossierService

        return DossierService(self.db, self.settings.units)

    @cached_property
    def grants(self) -> GrantService:
        from patronus.services.grants import GrantService

        return GrantService(self.db, self.settings.units)

    @cached_property
    def people(self) -> PeopleService:
        from patronus.services.people import PeopleService

        return PeopleService(self.db)

    @cached_property
    def documents(self) -> DocumentService:
        from patronus.services.documents import DocumentService

        return DocumentService(self.db, self.storage, scanning=self.settings.malware_scanning)
