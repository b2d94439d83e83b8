"""Custom resource handler (CDK Provider framework): prepare the database, apply migrations.

Create and Update (the migration fingerprint changed) run the migrations; Delete does nothing:
removing the stack never drops data.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from patronus_db_migrate.bootstrap import bootstrap
from patronus_db_migrate.settings import SchemaMigrationSettings

logger = Logger()
settings = SchemaMigrationSettings.from_env(os.environ)


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event["RequestType"]
    physical_id = event.get("PhysicalResourceId") or f"{settings.database}-schema"
    if request == "Delete":
        logger.info("stack deletion: the database is left as it is", extra={"database": settings.database})
        return {"PhysicalResourceId": physical_id}
    secrets = boto3.client("secretsmanager", region_name=settings.region)
    result = bootstrap(settings, secrets)
    logger.info(
        "schema up to date",
        extra={
            "database": result.database,
            "applied": result.report.applied,
            "version": result.report.current_version,
            "fingerprint": event.get("ResourceProperties", {}).get("MigrationFingerprint"),
        },
    )
    return {
        "PhysicalResourceId": physical_id,
        "Data": {
            "SchemaVersion": result.report.current_version or "",
            "Applied": ",".join(result.report.applied),
        },
    }
