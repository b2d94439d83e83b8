"""SQL access. The only package (with ``patronus.db``) that knows pymysql.

Every function takes the cursor of a unit of work opened by a service
(``Database.transaction()`` or ``Database.reading()``), so a service decides what is atomic.
Driver errors become domain errors here, with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pymysql

from patronus.errors import Conflict, Unavailable

DUPLICATE_KEY = 1062
DEADLOCK = 1213
LOCK_WAIT_TIMEOUT = 1205


class DuplicateKey(Conflict):
    """A unique key already holds this value; ``key`` names the index."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


def like_pattern(text: str) -> str:
    """Escape LIKE wildcards so user input is matched literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn pymysql errors raised inside the block into domain errors."""
    try:
        yield
    except pymysql.err.IntegrityError as exc:
        code = exc.args[0] if exc.args else 0
        if code == DUPLICATE_KEY:
            message = str(exc.args[1]) if len(exc.args) > 1 else ""
            key = message.rsplit("key ", 1)[-1].strip("'` ").split(".")[-1] if "key" in message else ""
            raise DuplicateKey("a record with this value already exists", key) from exc
        raise Conflict("the change conflicts with existing records") from exc
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else 0
        if code in (DEADLOCK, LOCK_WAIT_TIMEOUT):
            raise Conflict("the record is being changed by another request; retry") from exc
        raise Unavailable("the database could not complete the request") from exc
