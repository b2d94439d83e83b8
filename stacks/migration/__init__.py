"""Constructs of the migration stack (DMS, DataSync), removable after cutover."""

from stacks.migration.datasync import LegacyDocumentsSync, LegacyDocumentsSyncProps
from stacks.migration.dms import LegacyDatabaseReplication, LegacyDatabaseReplicationProps, TableSelection

__all__ = [
    "LegacyDatabaseReplication",
    "LegacyDatabaseReplicationProps",
    "LegacyDocumentsSync",
    "LegacyDocumentsSyncProps",
    "TableSelection",
]
