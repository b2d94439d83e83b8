"""Create the application's users in the Cognito user pool from a CSV file, with their role and units.

One row per user: ``email`` (the sign-in name), ``role`` (a role group of the pool: ``readers``,
``editors``, ``admins``), ``units`` (unit names separated by ``;``, each the group
``unit-<name>``; empty for none), and optionally ``given_name`` and ``family_name``. The groups
must exist already (the access-control configuration creates them): a row naming another is an
error. Every row is checked before anything changes; then each missing user is created (Cognito
e-mails a temporary password) and added to the groups it lacks. Groups a user has beyond the
file are reported, never removed. Running the same file again changes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.operator_tools.toolkit import ToolError

UNIT_PREFIX = "unit-"
REQUIRED_COLUMNS = ("email", "role", "units")
OPTIONAL_ATTRIBUTES = ("given_name", "family_name")
_EMAIL_SHAPE = "@"


@dataclass(frozen=True)
class UserRow:
    line: int
    email: str
    role: str
    units: tuple[str, ...]
    attributes: dict[str, str]

    @property
    def groups(self) -> tuple[str, ...]:
        return (self.role, *(f"{UNIT_PREFIX}{unit}" for unit in self.units))


@dataclass
class ImportOutcome:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    groups_added: dict[str, list[str]] = field(default_factory=dict)
    extra_groups: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def read_rows(path: Path) -> list[UserRow]:
    """Parse the CSV file; raises :class:`ToolError` listing every bad row."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ToolError(
                    f"{path}: missing column(s) {', '.join(missing)} (header: {reader.fieldnames})"
                )
            rows, problems = [], []
            for number, record in enumerate(reader, start=2):
                row, problem = _row(number, record)
                if problem:
                    problems.append(f"line {number}: {problem}")
                elif row is not None:
                    rows.append(row)
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror}") from exc
    seen: dict[str, int] = {}
    for row in rows:
        if row.email in seen:
            problems.append(f"line {row.line}: {row.email} already on line {seen[row.email]}")
        seen.setdefault(row.email, row.line)
    if problems:
        raise ToolError(f"{path}: nothing was changed; " + "; ".join(problems))
    return rows


def _row(number: int, record: dict[str, Any]) -> tuple[UserRow | None, str | None]:
    email = (record.get("email") or "").strip().lower()
    role = (record.get("role") or "").strip()
    if not email and not role and not (record.get("units") or "").strip():
        return None, None  # a blank line
    if _EMAIL_SHAPE not in email or " " in email:
        return None, f"{email!r} is not an e-mail address"
    if not role:
        return None, "no role"
    units = tuple(u.strip() for u in (record.get("units") or "").split(";") if u.strip())
    attributes = {
        name: record[name].strip() for name in OPTIONAL_ATTRIBUTES if (record.get(name) or "").strip()
    }
    return UserRow(number, email, role, units, attributes), None


def pool_groups(cognito: Any, pool_id: str) -> set[str]:
    names: set[str] = set()
    for page in cognito.get_paginator("list_groups").paginate(UserPoolId=pool_id):
        names.update(group["GroupName"] for group in page["Groups"])
    return names


def check_groups(rows: list[UserRow], known: set[str]) -> None:
    problems = []
    for row in rows:
        if row.role.startswith(UNIT_PREFIX) or row.role not in known:
            problems.append(f"line {row.line}: role {row.role!r} is not a role group of the pool")
        unknown = [g for g in row.groups[1:] if g not in known]
        if unknown:
            problems.append(f"line {row.line}: no group {', '.join(unknown)} in the pool")
    if problems:
        roles = sorted(g for g in known if not g.startswith(UNIT_PREFIX))
        raise ToolError(f"nothing was changed (role groups: {', '.join(roles)}); " + "; ".join(problems))


def _groups_of(cognito: Any, pool_id: str, email: str) -> set[str] | None:
    """The user's groups, or ``None`` when the user does not exist."""
    try:
        pages = cognito.get_paginator("admin_list_groups_for_user").paginate(
            UserPoolId=pool_id, Username=email
        )
        return {group["GroupName"] for page in pages for group in page["Groups"]}
    except cognito.exceptions.UserNotFoundException:
        return None


def import_users(cognito: Any, pool_id: str, rows: list[UserRow], *, dry_run: bool) -> ImportOutcome:
    check_groups(rows, pool_groups(cognito, pool_id))
    outcome = ImportOutcome()
    for row in rows:
        try:
            _import_one(cognito, pool_id, row, outcome, dry_run=dry_run)
        except cognito.exceptions.ClientError as exc:
            outcome.failed[row.email] = str(exc)
    return outcome


def _import_one(cognito: Any, pool_id: str, row: UserRow, outcome: ImportOutcome, *, dry_run: bool) -> None:
    current = _groups_of(cognito, pool_id, row.email)
    if current is None:
        outcome.created.append(row.email)
        current = set()
        if not dry_run:
            attributes = [
                {"Name": "email", "Value": row.email},
                {"Name": "email_verified", "Value": "true"},
                *({"Name": k, "Value": v} for k, v in row.attributes.items()),
            ]
            cognito.admin_create_user(
                UserPoolId=pool_id,
                Username=row.email,
                UserAttributes=attributes,
                DesiredDeliveryMediums=["EMAIL"],
            )
    else:
        outcome.existing.append(row.email)
    missing = [group for group in row.groups if group not in current]
    if missing:
        outcome.groups_added[row.email] = missing
    for group in missing if not dry_run else ():
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=row.email, GroupName=group)
    extra = sorted(current - set(row.groups))
    if extra:
        outcome.extra_groups[row.email] = extra
