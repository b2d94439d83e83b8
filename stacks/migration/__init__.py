"""Constructs of the migration stack (DMS, DataSync), removable after cutover."""
