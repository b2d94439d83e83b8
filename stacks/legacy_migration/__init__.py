"""Constructs of the legacy migration stack (DMS, DataSync), removed after the cutover."""

from stacks.legacy_migration.datasync import LegacyDocumentsSync, LegacyDocumentsSyncProps
from stacks.legacy_migration.dms import (
    LegacyDatabaseReplication,
    LegacyDatabaseReplicationProps,
    TableSelection,
)

__all__ = [
    "LegacyDatabaseReplication",
    "LegacyDatabaseReplicationProps",
    "LegacyDocumentsSync",
    "LegacyDocumentsSyncProps",
    "TableSelection",
]
