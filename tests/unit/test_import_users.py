"""import_users against moto's Cognito: users with their role and unit groups, idempotent, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.import_users import main
from scripts.operator_tools import toolkit

GROUPS = ("readers", "editors", "admins", "unit-north", "unit-south")


@pytest.fixture(scope="module")
def cognito() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cognito-idp", region_name="eu-west-3")


@pytest.fixture
def pool(cognito: Any) -> str:
    """A pool with the groups the access-control configuration creates."""
    pool_id = str(cognito.create_user_pool(PoolName="patronus")["UserPool"]["Id"])
    for group in GROUPS:
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    return pool_id


def csv_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "users.csv"
    path.write_text("\n".join(["email,role,units,given_name,family_name", *lines]) + "\n", encoding="utf-8")
    return path


def run(cognito: Any, pool: str, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = path.with_suffix(".json")
    code = toolkit.run(
        lambda argv: main(argv, cognito=cognito),
        [str(path), "--user-pool-id", pool, "--report", str(report), *extra],
    )
    return code, json.loads(report.read_text()) if report.exists() else {}


def groups_of(cognito: Any, pool: str, email: str) -> set[str]:
    found = cognito.admin_list_groups_for_user(UserPoolId=pool, Username=email)["Groups"]
    return {group["GroupName"] for group in found}


def test_users_are_created_with_their_role_and_units_once(cognito: Any, pool: str, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "Anne.Martin@example.com,editors,north;south,Anne,Martin",
        "paul@example.com,readers,,Paul,",
    )
    # When the file is imported
    code, report = run(cognito, pool, path)
    # Then each user exists, with a verified e-mail, in its role group and its unit groups
    assert code == toolkit.EXIT_OK, report
    assert sorted(report["created"]) == ["anne.martin@example.com", "paul@example.com"]
    assert groups_of(cognito, pool, "anne.martin@example.com") == {"editors", "unit-north", "unit-south"}
    assert groups_of(cognito, pool, "paul@example.com") == {"readers"}
    user = cognito.admin_get_user(UserPoolId=pool, Username="anne.martin@example.com")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email_verified"] == "true" and attributes["given_name"] == "Anne"
    # And importing the same file again changes nothing
    code, again = run(cognito, pool, path)
    assert code == toolkit.EXIT_OK
    assert again["created"] == [] and again["groups_added"] == {}


def test_a_new_unit_is_added_and_extra_groups_are_only_reported(
    cognito: Any, pool: str, tmp_path: Path
) -> None:
    run(cognito, pool, csv_file(tmp_path, "anne@example.com,editors,north,,"))
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="anne@example.com", GroupName="admins")
    code, report = run(cognito, pool, csv_file(tmp_path, "anne@example.com,editors,north;south,,"))
    assert code == toolkit.EXIT_OK
    assert report["groups_added"] == {"anne@example.com": ["unit-south"]}
    assert report["extra_groups"] == {"anne@example.com": ["admins"]}
    assert groups_of(cognito, pool, "anne@example.com") == {"editors", "admins", "unit-north", "unit-south"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("zoe@example.com,editors,west,,", "no group unit-west"),
        ("zoe@example.com,owners,,,", "role 'owners' is not a role group"),
        ("not-an-address,readers,,,", "is not an e-mail address"),
    ],
)
def test_one_bad_row_and_nothing_changes(
    cognito: Any, pool: str, tmp_path: Path, line: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_file(tmp_path, "yann@example.com,readers,north,,", line)
    code, _ = run(cognito, pool, path)
    assert code == toolkit.EXIT_USAGE
    assert message in capsys.readouterr().err
    assert cognito.list_users(UserPoolId=pool)["Users"] == []


def test_a_dry_run_changes_nothing(cognito: Any, pool: str, tmp_path: Path) -> None:
    code, report = run(cognito, pool, csv_file(tmp_path, "yann@example.com,readers,north,,"), "--dry-run")
    assert code == toolkit.EXIT_OK and report["created"] == ["yann@example.com"]
    assert cognito.list_users(UserPoolId=pool)["Users"] == []
