"""Units: the teams or departments that dossiers belong to, and how Cognito groups name them.

A user's global groups (``readers``, ``editors``, ``admins``) say *what* they may do; their unit
groups say *where*. A unit group is named ``<prefix><name>`` (``unit-litigation`` with the default
prefix ``unit-``), and the unit is identified everywhere (database, API, catalog rules, cdk.json)
by that full group name, so that what an operator sees in Cognito is what the API answers.

The naming rule is written once, here: the API, the schema-migration function, the catalog of
legacy documents and the CDK configuration all check unit names with :func:`check_unit_name`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_PREFIX = "unit-"
DEFAULT_UNIT = "unit-general"
# The dossiers.unit column holds 64 characters (Cognito allows 128 for a group name).
MAX_UNIT_LENGTH = 64
_PREFIX = re.compile(r"^[a-z][a-z0-9]{0,15}[-_]$")
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


class UnitNameError(ValueError):
    """A unit or unit prefix that does not follow the naming rule."""


def check_prefix(prefix: str) -> str:
    if not _PREFIX.fullmatch(prefix):
        raise UnitNameError(
            f"unit group prefix {prefix!r} must be 1 to 16 lowercase letters or digits, starting "
            "with a letter and ending with '-' or '_' (e.g. 'unit-')"
        )
    return prefix


def is_unit_name(value: str, prefix: str = DEFAULT_PREFIX) -> bool:
    return (
        value.startswith(prefix)
        and len(value) <= MAX_UNIT_LENGTH
        and bool(_NAME.fullmatch(value[len(prefix) :]))
    )


def check_unit_name(value: str, prefix: str = DEFAULT_PREFIX) -> str:
    """``value`` if it names a unit (``<prefix>`` then lowercase letters, digits and inner
    hyphens, at most 64 characters in all); else :class:`UnitNameError`."""
    if not is_unit_name(value, prefix):
        raise UnitNameError(
            f"unit {value!r} must be {prefix!r} followed by lowercase letters, digits and inner "
            f"hyphens, at most {MAX_UNIT_LENGTH} characters in all (e.g. '{prefix}litigation')"
        )
    return value


def units_of(groups: Iterable[str], prefix: str = DEFAULT_PREFIX) -> frozenset[str]:
    """The unit groups among a user's groups; groups that merely start with the prefix but break
    the naming rule are ignored (they cannot name a dossier's unit)."""
    return frozenset(g for g in groups if is_unit_name(g, prefix))
