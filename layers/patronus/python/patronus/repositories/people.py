"""SQL for the ``people`` table: who has signed in, as their ID token names them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from patronus.models import PersonRow
from patronus.repositories import like_pattern, translated_errors

_COLUMNS = "subject, name, email"


def record(cursor: Any, *, subject: str, name: str, email: str | None, now: datetime) -> None:
    """Add the person, or bring their name and address up to date. (The values are passed twice:
    ``VALUES()`` in the update is deprecated by MySQL 8.0 and its row alias unknown to MariaDB.)"""
    with translated_errors():
        cursor.execute(
            f"INSERT INTO people ({_COLUMNS}, seen_at) VALUES (%s, %s, %s, %s)"
            " ON DUPLICATE KEY UPDATE name = %s, email = %s, seen_at = %s",
            (subject, name, email, now, name, email, now),
        )


def get(cursor: Any, subject: str) -> PersonRow | None:
    with translated_errors():
        cursor.execute(f"SELECT {_COLUMNS} FROM people WHERE subject = %s", (subject,))
        row = cursor.fetchone()
    return PersonRow.model_validate(row) if row else None


def named(cursor: Any, subjects: list[str]) -> list[PersonRow]:
    """The people among ``subjects`` who are recorded."""
    if not subjects:
        return []
    marks = ", ".join(["%s"] * len(subjects))
    with translated_errors():
        cursor.execute(f"SELECT {_COLUMNS} FROM people WHERE subject IN ({marks})", tuple(subjects))
        rows = cursor.fetchall()
    return [PersonRow.model_validate(row) for row in rows]


def search(cursor: Any, text: str, *, limit: int) -> list[PersonRow]:
    """People whose name or address starts with ``text`` (case and accents ignored, as the
    column's collation compares), or whose subject is ``text``; by name."""
    prefix = like_pattern(text) + "%"
    with translated_errors():
        cursor.execute(
            f"SELECT {_COLUMNS} FROM people WHERE name LIKE %s OR email LIKE %s OR subject = %s"
            " ORDER BY name, subject LIMIT %s",
            (prefix, prefix, text, limit),
        )
        rows = cursor.fetchall()
    return [PersonRow.model_validate(row) for row in rows]
