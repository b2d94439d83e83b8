"""Deploy-time schema migration of the application database (a CloudFormation custom resource).

It applies :mod:`patronus.schema`'s versioned migrations; it has nothing to do with the one-off
move of the legacy data into AWS (DMS, DataSync, the dump importer).
"""
