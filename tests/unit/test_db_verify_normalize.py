"""How db_verify normalises definitions and catalog values between MySQL 8.0 and MariaDB."""

from __future__ import annotations

import pytest

from scripts.operator_tools.database.verifier import (
    Catalog,
    column_expression,
    key_columns,
    normalize_column_type,
    normalize_default,
    normalize_definition,
    normalize_extra,
    normalize_sql_mode,
    range_predicate,
)


def test_definer_schema_qualifiers_and_whitespace_do_not_count() -> None:
    source = (
        "CREATE DEFINER=`legacy_app`@`10.0.10.%` TRIGGER t BEFORE INSERT ON `legacy`.`x`\n"
        "FOR EACH ROW SET NEW.a = 1"
    )
    target = (
        "CREATE DEFINER=`admin`@`%` TRIGGER t   BEFORE INSERT ON `patronus`.`x` FOR EACH ROW\tSET NEW.a = 1"
    )
    assert normalize_definition(source, "legacy") == normalize_definition(target, "patronus")
    assert (
        normalize_definition(source, "legacy")
        == "CREATE TRIGGER t BEFORE INSERT ON `x` FOR EACH ROW SET NEW.a = 1"
    )


def test_a_real_change_in_a_body_still_counts() -> None:
    a = normalize_definition("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1", "s")
    b = normalize_definition("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 2", "s")
    assert a != b


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("int(11)", "int"),
        ("bigint(20) unsigned", "bigint unsigned"),
        ("tinyint(4)", "tinyint"),
        ("varchar(255)", "varchar(255)"),
        ("decimal(12,2)", "decimal(12,2)"),
    ],
)
def test_integer_display_widths_are_ignored(left: str, right: str) -> None:
    assert normalize_column_type(left) == normalize_column_type(right)


@pytest.mark.parametrize(
    ("mariadb", "mysql"),
    [
        ("NULL", None),
        ("'FR'", "FR"),
        ("0.00", "0.00"),
        ("current_timestamp()", "CURRENT_TIMESTAMP"),
        ("current_timestamp(3)", "CURRENT_TIMESTAMP(3)"),
        ("'2001-01-01 00:00:00'", "2001-01-01 00:00:00"),
    ],
)
def test_defaults_as_mariadb_and_mysql_spell_them_compare_equal(mariadb: str, mysql: str | None) -> None:
    assert normalize_default(mariadb) == normalize_default(mysql)


def test_extra_and_sql_mode_are_normalised() -> None:
    assert normalize_extra("DEFAULT_GENERATED on update CURRENT_TIMESTAMP") == normalize_extra(
        "on update current_timestamp()"
    )
    assert normalize_sql_mode("STRICT_TRANS_TABLES,NO_AUTO_CREATE_USER,ERROR_FOR_DIVISION_BY_ZERO") == (
        normalize_sql_mode("ERROR_FOR_DIVISION_BY_ZERO,STRICT_TRANS_TABLES")
    )


def test_range_predicates_spell_out_composite_keys() -> None:
    sql, args = range_predicate(["a", "b"], (1, 2), (3, 4))
    assert sql == "((`a` > %s) OR (`a` = %s AND `b` > %s)) AND NOT ((`a` > %s) OR (`a` = %s AND `b` > %s))"
    assert args == [1, 1, 2, 3, 3, 4]
    assert range_predicate(["id"], None, None) == ("1 = 1", [])


def test_column_expressions_hash_each_column_on_its_own_and_mark_nulls() -> None:
    text = column_expression({"name": "n", "data_type": "varchar"})
    assert text == "IF(`n` IS NULL, 'N', MD5(CAST(CONVERT(`n` USING utf8mb4) AS BINARY)))"
    assert column_expression({"name": "b", "data_type": "blob"}) == "IF(`b` IS NULL, 'N', MD5(`b`))"


def test_key_columns_prefer_the_primary_key_then_a_not_null_unique_key() -> None:
    catalog = Catalog(
        indexes={
            "with_pk": {"PRIMARY": (True, "BTREE", (("id", None),))},
            "with_unique": {
                "uq_nullable": (True, "BTREE", (("email", None),)),
                "uq_ref": (True, "BTREE", (("ref", None),)),
            },
            "with_nothing": {"ix": (False, "BTREE", (("at", None),))},
        },
        columns={
            "with_unique": [
                {"name": "email", "nullable": True},
                {"name": "ref", "nullable": False},
            ]
        },
    )
    assert key_columns(catalog, "with_pk") == ["id"]
    assert key_columns(catalog, "with_unique") == ["ref"]
    assert key_columns(catalog, "with_nothing") == []
