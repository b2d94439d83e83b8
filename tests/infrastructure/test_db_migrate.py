"""db_migrate, run in-process against the MariaDB fixture, with the admin secret in moto.

MariaDB has no AWSAuthenticationPlugin: these tests set ``PATRONUS_DB_IAM_USER=false``, which
skips the AWS-only ``CREATE USER ... IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'`` and
creates the same user locked instead, with the same grants. The AWS statement itself is checked
as text in ``test_the_aws_user_is_created_for_iam_authentication``.
"""

from __future__ import annotations

import copy
import importlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from moto import mock_aws

from patronus.schema import discover
from patronus_db_migrate.bootstrap import BootstrapError, admin_credentials, ensure_app_user
from scripts.devstack.database import connect, drop_database, with_database

EVENTS = Path(__file__).resolve().parents[2] / "events"


class LambdaContext:
    function_name = "patronus-db-migrate"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:patronus-db-migrate"
    aws_request_id = "test-request"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def target(mysql_server_url: str) -> Iterator[dict[str, str]]:
    """A database name and an application user that do not exist yet; both dropped after."""
    names = {"database": f"m_{uuid.uuid4().hex[:12]}", "user": f"app_{uuid.uuid4().hex[:12]}"}
    yield names
    drop_database(mysql_server_url, names["database"])
    connection = connect(mysql_server_url, database=False)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP USER IF EXISTS '{names['user']}'@'%'")
    connection.close()


@pytest.fixture
def handler_module(
    mysql_server_url: str, target: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """The handler, configured as in AWS but pointed at MariaDB, with the secret in moto."""
    server = urlsplit(mysql_server_url)
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="eu-west-3")
        secret_arn = secrets.create_secret(
            Name="patronus-dev-admin",
            SecretString=json.dumps(
                {"username": server.username or "root", "password": server.password or "", "engine": "mysql"}
            ),
        )["ARN"]
        environment = {
            "AWS_DEFAULT_REGION": "eu-west-3",
            "PATRONUS_DB_SECRET_ARN": secret_arn,
            "PATRONUS_DB_HOST": server.hostname or "127.0.0.1",
            "PATRONUS_DB_PORT": str(server.port or 3306),
            "PATRONUS_DB_NAME": target["database"],
            "PATRONUS_DB_APP_USER": target["user"],
            # The MariaDB fixture has no TLS and no AWSAuthenticationPlugin (see module docstring).
            "PATRONUS_DB_TLS": "false",
            "PATRONUS_DB_IAM_USER": "false",
            "POWERTOOLS_SERVICE_NAME": "patronus-db-migrate",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        import patronus_db_migrate.handler as module

        yield importlib.reload(module)


def test_create_prepares_the_database_the_user_and_the_schema(
    handler_module: ModuleType, mysql_server_url: str, target: dict[str, str]
) -> None:
    # Given the sample Create event of CloudFormation and a server without the database
    event = load_event("db-migrate-create.json")
    # When the custom resource handler runs
    response = handler_module.handler(event, LambdaContext())
    # Then the database exists with every migration applied
    versions = [m.version for m in discover()]
    assert response["Data"] == {"SchemaVersion": versions[-1], "Applied": ",".join(versions)}
    assert response["PhysicalResourceId"] == f"{target['database']}-schema"
    connection = connect(with_database(mysql_server_url, target["database"]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in cursor.fetchall()] == versions
        cursor.execute(
            "SELECT DEFAULT_CHARACTER_SET_NAME AS cs FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            (target["database"],),
        )
        assert cursor.fetchone()["cs"] == "utf8mb4"
        # And the application user holds only SELECT, INSERT, UPDATE, DELETE on that database
        cursor.execute(f"SHOW GRANTS FOR '{target['user']}'@'%'")
        grants = sorted(next(iter(row.values())) for row in cursor.fetchall())
    connection.close()
    assert grants == [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{target['database']}`.* TO `{target['user']}`@`%`",
        f"GRANT USAGE ON *.* TO `{target['user']}`@`%`",
    ]


def test_a_rerun_after_a_change_of_fingerprint_applies_nothing_twice(handler_module: ModuleType) -> None:
    create = load_event("db-migrate-create.json")
    handler_module.handler(create, LambdaContext())
    # Given an Update (the migration fingerprint changed), When it runs again
    update = copy.deepcopy(create)
    update.update(
        RequestType="Update", PhysicalResourceId="kept-id", OldResourceProperties=create["ResourceProperties"]
    )
    update["ResourceProperties"]["MigrationFingerprint"] = "1" * 64
    response = handler_module.handler(update, LambdaContext())
    # Then nothing is applied again and the physical id is kept (no replacement, no delete)
    assert response["Data"]["Applied"] == ""
    assert response["Data"]["SchemaVersion"] == discover()[-1].version
    assert response["PhysicalResourceId"] == "kept-id"


def test_delete_leaves_the_database_alone(
    handler_module: ModuleType, mysql_server_url: str, target: dict[str, str]
) -> None:
    handler_module.handler(load_event("db-migrate-create.json"), LambdaContext())
    # When the stack is deleted
    response = handler_module.handler(load_event("db-migrate-delete.json"), LambdaContext())
    # Then the handler answers with the same physical id and the schema is still there
    assert response == {"PhysicalResourceId": "patronus-schema"}
    connection = connect(with_database(mysql_server_url, target["database"]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) AS n FROM schema_migrations")
        assert cursor.fetchone()["n"] == len(discover())
    connection.close()


class RecordingCursor:
    """Records SQL text only: the AWS statement cannot run on MariaDB."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str, args: object = None) -> None:
        self.statements.append(sql)


def test_the_aws_user_is_created_for_iam_authentication() -> None:
    cursor = RecordingCursor()
    ensure_app_user(cursor, "patronus_app", "patronus", iam=True)
    assert cursor.statements == [
        "CREATE USER IF NOT EXISTS 'patronus_app'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
        "ALTER USER 'patronus_app'@'%' REQUIRE SSL",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON `patronus`.* TO 'patronus_app'@'%'",
    ]


@pytest.mark.parametrize("name", ["patronus; DROP DATABASE x", "x'y", "a" * 40])
def test_unsafe_identifiers_are_refused(name: str) -> None:
    with pytest.raises(BootstrapError, match="unsafe identifier"):
        ensure_app_user(RecordingCursor(), name, "patronus", iam=True)


@mock_aws
def test_a_secret_without_credentials_is_reported() -> None:
    secrets = boto3.client("secretsmanager", region_name="eu-west-3")
    arn = secrets.create_secret(Name="broken", SecretString="not json")["ARN"]
    with pytest.raises(BootstrapError, match="no JSON username and password"):
        admin_credentials(secrets, arn)
