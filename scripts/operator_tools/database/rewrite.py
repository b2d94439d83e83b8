"""Classify dump statements and rewrite what Aurora MySQL refuses to a user without SUPER.

Aurora MySQL 3 (MySQL 8.0) gives its master user neither SUPER nor SYSTEM_VARIABLES_ADMIN nor
SET_USER_ID. A dump of the legacy server, made by mysqldump or mariadb-dump, therefore holds
statements that fail there:

==========================  ==================================================================
kind                        what happens
==========================  ==================================================================
``definer_removed``         ``DEFINER=user@host`` on views, routines, triggers and events is
                            removed: the object is owned by the importing user instead
                            (naming another user needs SUPER / SET_USER_ID).
``sql_security_invoker``    only with ``--sql-security invoker``: ``SQL SECURITY DEFINER``
                            becomes ``INVOKER``.
``gtid_purged_dropped``     ``SET @@GLOBAL.GTID_PURGED=...`` (mysqldump of a GTID server) is
                            dropped: it needs SUPER and would rewrite the target's GTID state.
``global_variable_dropped`` any other ``SET GLOBAL`` / ``SET @@GLOBAL.`` is dropped.
``sql_log_bin_dropped``     statements reading or setting ``SQL_LOG_BIN`` are dropped.
``no_auto_create_user``     ``NO_AUTO_CREATE_USER`` is removed from ``sql_mode`` values: MySQL
                            8.0 no longer knows it and refuses the whole ``SET``.
``engine_to_innodb``        ``ENGINE=MyISAM`` / ``Aria`` becomes ``InnoDB`` (Aurora's only
                            crash-safe engine; DMS and db_verify snapshots need it too).
``replication_dropped``     ``CHANGE MASTER``, ``START SLAVE``, ``RESET MASTER`` ... dropped.
``account_dropped``         ``GRANT``, ``CREATE USER``, ``FLUSH`` ... dropped (accounts are
                            managed on the Aurora side, not copied from the legacy server).
``database_dropped``        ``CREATE DATABASE`` / ``USE`` dropped: everything goes into the
                            target database named on the command line.
``sandbox_marker_dropped``  mariadb-dump's first line ``/*M!999999\\- ...*/`` (a client
                            command that the MySQL client and Aurora tooling reject).
==========================  ==================================================================

Statements that only steer a plain load (``LOCK TABLES``, ``ALTER TABLE ... DISABLE KEYS``,
``SET autocommit``, ``COMMIT``) are skipped and counted separately: the importer manages its
own transactions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# --- identifiers ---------------------------------------------------------------------------

_QUOTED_IDENT = rb"`(?:[^`]|``)+`"
_BARE_IDENT = rb"[A-Za-z0-9_$\x80-\xff]+"
_IDENT = rb"(?:" + _QUOTED_IDENT + rb"|" + _BARE_IDENT + rb")"
_QUALIFIED = rb"(?P<first>" + _IDENT + rb")(?:\s*\.\s*(?P<second>" + _IDENT + rb"))?"
_USER_PART = rb"(?:`(?:[^`]|``)*`|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[A-Za-z0-9_.$%:\-\x80-\xff]+)"
_USER = rb"(?:CURRENT_USER(?:\s*\(\s*\))?|" + _USER_PART + rb"(?:\s*@\s*" + _USER_PART + rb")?)"


def unquote_identifier(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if text.startswith("`") and text.endswith("`"):
        return text[1:-1].replace("``", "`")
    return text


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# --- normalised head: executable-comment markers removed --------------------------------------

_CONDITIONAL_OPEN = re.compile(rb"/\*M?!\d*")
_CONDITIONAL_CLOSE = re.compile(rb"\*/")
_SPACES = re.compile(rb"\s+")


def normalized_head(head: bytes) -> bytes:
    """The statement start with ``/*!NNNNN`` and ``*/`` markers removed and blanks collapsed.

    ``/*!50003 CREATE*/ /*!50017 DEFINER=`u`@`h`*/ /*!50003 TRIGGER t`` becomes
    ``CREATE DEFINER=`u`@`h` TRIGGER t``; enough to classify and name every statement a dump
    holds.
    """
    text = _CONDITIONAL_OPEN.sub(b" ", head)
    text = _CONDITIONAL_CLOSE.sub(b" ", text)
    return _SPACES.sub(b" ", text).strip()


# --- classification --------------------------------------------------------------------------

_INSERT = re.compile(
    rb"(?is)(?:INSERT|REPLACE)(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE))*\s+(?:INTO\s+)?"
    + _QUALIFIED
)
_CREATE_PREFIX = re.compile(
    rb"(?is)CREATE\s+(?:OR\s+REPLACE\s+|ALGORITHM\s*=\s*\w+\s+|DEFINER\s*=\s*"
    + _USER
    + rb"\s*|SQL\s+SECURITY\s+\w+\s+|TEMPORARY\s+|AGGREGATE\s+)*"
    + rb"(?P<kind>TABLE|VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT|DATABASE|SCHEMA|SEQUENCE|USER|ROLE)\b"
    + rb"(?:\s+IF\s+NOT\s+EXISTS)?\s*"
)
_DROP = re.compile(
    rb"(?is)DROP\s+(?:TEMPORARY\s+)?(?P<kind>TABLES?|VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT|DATABASE|SCHEMA|"
    rb"SEQUENCE|USER|ROLE)\b(?:\s+IF\s+EXISTS)?\s*"
)
_ALTER = re.compile(
    rb"(?is)ALTER\s+(?:ONLINE\s+|IGNORE\s+|ALGORITHM\s*=\s*\w+\s+|DEFINER\s*=\s*"
    + _USER
    + rb"\s*|SQL\s+SECURITY\s+\w+\s+)*(?P<kind>TABLE|VIEW|EVENT|PROCEDURE|FUNCTION|DATABASE|SCHEMA|USER)\b\s*"
)
_KEYS = re.compile(rb"(?is)ALTER\s+TABLE\s+" + _QUALIFIED + rb"\s+(?:DISABLE|ENABLE)\s+KEYS\s*$")
_SET = re.compile(rb"(?is)SET\b")
_SET_GTID = re.compile(rb"(?is)SET\s+@@GLOBAL\s*\.\s*GTID_PURGED\b")
_SET_GLOBAL = re.compile(rb"(?is)SET\s+(?:@@GLOBAL\s*\.|GLOBAL\s)")
_SQL_LOG_BIN = re.compile(rb"(?i)\bSQL_LOG_BIN\b")
_SET_AUTOCOMMIT = re.compile(rb"(?is)SET\s+(?:@@(?:SESSION\s*\.)?|SESSION\s+)?AUTOCOMMIT\s*=")
_SET_PASSWORD = re.compile(rb"(?is)SET\s+PASSWORD\b")
_USE = re.compile(rb"(?is)USE\s+(?P<first>" + _IDENT + rb")")
_TRANSACTION = re.compile(rb"(?is)(?:START\s+TRANSACTION|BEGIN|COMMIT|ROLLBACK)\b")
_LOCKS = re.compile(rb"(?is)(?:LOCK\s+TABLES?|UNLOCK\s+TABLES?)\b")
_REPLICATION = re.compile(
    rb"(?is)(?:CHANGE\s+(?:MASTER|REPLICATION\s+SOURCE|REPLICATION\s+FILTER)|(?:START|STOP|RESET)\s+"
    rb"(?:SLAVE|REPLICA|MASTER|BINARY\s+LOGS)|PURGE\s+(?:BINARY|MASTER)\s+LOGS)\b"
)
_ACCOUNTS = re.compile(rb"(?is)(?:GRANT|REVOKE|FLUSH|RENAME\s+USER)\b")

POST_KINDS = ("view", "trigger", "routine", "event")


@dataclass(frozen=True, slots=True)
class Classified:
    """Where a statement goes.

    ``action``: ``data`` (rows of ``table``), ``schema`` (table structure, run before the
    data), ``session`` (a session ``SET``, replayed on every connection that needs it),
    ``post`` (views, routines, triggers, events: created after the data), ``drop`` (removed,
    ``kind`` says why) or ``skip`` (load steering the importer replaces, ``kind`` says which).
    """

    action: str
    kind: str
    table: str | None = None
    name: str | None = None
    verb: str = ""
    object_type: str = ""  # the SQL keyword: TABLE, VIEW, PROCEDURE, FUNCTION, TRIGGER, EVENT...


def _name_after(pattern_match: re.Match[bytes], head: bytes) -> str | None:
    rest = head[pattern_match.end() :]
    found = re.match(_QUALIFIED, rest)
    if not found:
        return None
    return unquote_identifier(found.group("second") or found.group("first"))


Rule = Callable[[bytes], "Classified | None"]


def classify(head: bytes) -> Classified:
    """Decide from the (raw) first bytes of a statement what the importer does with it.

    The rules of :data:`_RULES` are tried in order; the first that recognises the statement
    decides. A statement none recognises is schema text run as it is.
    """
    text = normalized_head(head)
    for rule in _RULES:
        found = rule(text)
        if found is not None:
            return found
    return Classified("schema", "other")


def _classify_insert(text: bytes) -> Classified | None:
    found = _INSERT.match(text)
    if not found:
        return None
    return Classified(
        "data", "insert", table=unquote_identifier(found.group("second") or found.group("first"))
    )


def _classify_set(text: bytes) -> Classified | None:
    """``SET``: what needs SUPER is dropped, autocommit is the importer's, the rest is session."""
    if not _SET.match(text):
        return None
    if _SET_GTID.match(text):
        return Classified("drop", "gtid_purged_dropped")
    if _SET_GLOBAL.match(text):
        return Classified("drop", "global_variable_dropped")
    if _SQL_LOG_BIN.search(text):
        return Classified("drop", "sql_log_bin_dropped")
    if _SET_AUTOCOMMIT.match(text):
        return Classified("skip", "autocommit")
    if _SET_PASSWORD.match(text):
        return Classified("drop", "account_dropped")
    return Classified("session", "set")


def _classify_use(text: bytes) -> Classified | None:
    found = _USE.match(text)
    if not found:
        return None
    return Classified("drop", "database_dropped", name=unquote_identifier(found.group("first")))


def _fixed(pattern: re.Pattern[bytes], result: Classified) -> Rule:
    """A rule that gives ``result`` to every statement ``pattern`` matches."""

    def rule(text: bytes) -> Classified | None:
        return result if pattern.match(text) else None

    return rule


def _object_statement(pattern: re.Pattern[bytes], verb: str) -> Rule:
    """A rule for ``CREATE`` / ``DROP`` / ``ALTER`` of a table, view, routine, user..."""

    def rule(text: bytes) -> Classified | None:
        found = pattern.match(text)
        if not found:
            return None
        return _classify_object(verb, found.group("kind").decode().upper(), _name_after(found, text))

    return rule


_RULES: tuple[Rule, ...] = (
    _classify_insert,
    _classify_set,
    _fixed(_KEYS, Classified("skip", "disable_enable_keys")),
    _fixed(_LOCKS, Classified("skip", "lock_tables")),
    _fixed(_TRANSACTION, Classified("skip", "transaction_control")),
    _object_statement(_CREATE_PREFIX, "create"),
    _object_statement(_DROP, "drop"),
    _object_statement(_ALTER, "alter"),
    _classify_use,
    _fixed(_REPLICATION, Classified("drop", "replication_dropped")),
    _fixed(_ACCOUNTS, Classified("drop", "account_dropped")),
)


def _classify_object(verb: str, kind: str, name: str | None) -> Classified:
    if kind in {"TABLE", "TABLES", "SEQUENCE"}:
        kind = "TABLE" if kind == "TABLES" else kind
        return Classified("schema", f"{verb}_{kind.lower()}", table=name, name=name, verb=verb)
    post_kind = {"VIEW": "view", "TRIGGER": "trigger", "PROCEDURE": "routine", "FUNCTION": "routine"}.get(
        kind
    )
    if kind == "EVENT":
        post_kind = "event"
    if post_kind:
        return Classified("post", post_kind, name=name, verb=verb, object_type=kind)
    if kind in {"DATABASE", "SCHEMA"}:
        return Classified("drop", "database_dropped", name=name, verb=verb)
    if kind in {"USER", "ROLE"}:
        return Classified("drop", "account_dropped", name=name, verb=verb)
    return Classified("schema", "other", name=name, verb=verb)  # pragma: no cover - every kind is listed


# --- rewrites on full statement text ---------------------------------------------------------

# Text where a rewrite must not look: strings, identifiers and plain (non-executable) comments.
_SKIP = (
    rb"(?P<skip>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`]|``)*`"
    rb"|/\*(?!!|M!).*?\*/|--[ \t][^\n]*|\#[^\n]*)"
)
_DEFINER_CLAUSE = re.compile(
    _SKIP + rb"|(?P<hit>\bDEFINER\s*=\s*" + _USER + rb"[ \t]*)", re.IGNORECASE | re.DOTALL
)
_SQL_SECURITY_DEFINER = re.compile(
    _SKIP + rb"|(?P<hit>\bSQL\s+SECURITY\s+DEFINER\b)", re.IGNORECASE | re.DOTALL
)
_ENGINE = re.compile(
    _SKIP + rb"|(?P<hit>\bENGINE\s*=\s*(?P<engine>MyISAM|Aria)\b)", re.IGNORECASE | re.DOTALL
)
_ARIA_OPTION = re.compile(
    _SKIP + rb"|(?P<hit>\b(?:PAGE_CHECKSUM|TRANSACTIONAL)\s*=\s*\d\b)", re.IGNORECASE | re.DOTALL
)
_ANY_ENGINE = re.compile(_SKIP + rb"|(?P<hit>\bENGINE\s*=\s*(?P<engine>\w+))", re.IGNORECASE | re.DOTALL)
_NO_AUTO_CREATE_USER = re.compile(rb"(?i)NO_AUTO_CREATE_USER,|,\s*NO_AUTO_CREATE_USER\b|NO_AUTO_CREATE_USER")


def _substitute(pattern: re.Pattern[bytes], sql: bytes, replacement: bytes) -> tuple[bytes, int]:
    count = 0

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal count
        if match.group("hit") is None:
            return match.group(0)
        count += 1
        return replacement

    return pattern.sub(replace, sql), count


def remove_definer(sql: bytes) -> tuple[bytes, int]:
    """Drop every ``DEFINER = user@host`` clause outside strings and comments."""
    return _substitute(_DEFINER_CLAUSE, sql, b"")


def sql_security_invoker(sql: bytes) -> tuple[bytes, int]:
    return _substitute(_SQL_SECURITY_DEFINER, sql, b"SQL SECURITY INVOKER")


def engine_to_innodb(sql: bytes) -> tuple[bytes, int]:
    """``ENGINE=MyISAM`` / ``ENGINE=Aria`` -> ``ENGINE=InnoDB`` (with Aria-only options removed)."""
    rewritten, count = _substitute(_ENGINE, sql, b"ENGINE=InnoDB")
    if count:
        rewritten, _ = _substitute(_ARIA_OPTION, rewritten, b"")
    return rewritten, count


def engines_of(sql: bytes) -> list[str]:
    return [m.group("engine").decode() for m in _ANY_ENGINE.finditer(sql) if m.group("hit")]


def remove_no_auto_create_user(sql: bytes) -> tuple[bytes, int]:
    if b"NO_AUTO_CREATE_USER" not in sql.upper():
        return sql, 0
    rewritten, count = _NO_AUTO_CREATE_USER.subn(b"", sql)
    return rewritten, count


@dataclass(frozen=True)
class RewriteOptions:
    remove_definer: bool = True
    sql_security_invoker: bool = False
    engine_to_innodb: bool = True
    remove_no_auto_create_user: bool = True


def rewrite_statement(
    sql: bytes, classified: Classified, options: RewriteOptions
) -> tuple[bytes, dict[str, int]]:
    """Apply the rewrites that concern this statement; returns the new text and counts per kind."""
    counts: dict[str, int] = {}
    if classified.action == "post" or (classified.action == "schema" and classified.kind == "other"):
        if options.remove_definer:
            sql, n = remove_definer(sql)
            if n:
                counts["definer_removed"] = n
        if options.sql_security_invoker:
            sql, n = sql_security_invoker(sql)
            if n:
                counts["sql_security_invoker"] = n
    if classified.action == "session" and options.remove_no_auto_create_user:
        sql, n = remove_no_auto_create_user(sql)
        if n:
            counts["no_auto_create_user_removed"] = n
    if classified.kind in {"create_table", "alter_table"} and options.engine_to_innodb:
        sql, n = engine_to_innodb(sql)
        if n:
            counts["engine_to_innodb"] = n
    if classified.action == "post" and classified.kind == "view" and options.engine_to_innodb:
        sql, n = engine_to_innodb(sql)  # old mysqldump view placeholders are MyISAM tables
        if n:
            counts["engine_to_innodb"] = n
    return sql, counts


def drop_statement_for(classified: Classified) -> bytes | None:
    """An idempotent ``DROP ... IF EXISTS`` to run before re-creating a post-data object."""
    if classified.name is None or classified.verb != "create":
        return None
    if classified.action != "post" or not classified.object_type:
        return None
    return f"DROP {classified.object_type} IF EXISTS {quote_identifier(classified.name)}".encode()
