"""Baseline for the cold-start and warm-latency benchmarks: the same two read routes as the
Patronus API (get a dossier, list dossiers), written the common way with FastAPI + Mangum.

It reads the same ``dossiers`` table with pymysql, with the same connection settings, one
connection per execution environment, a read-only transaction per request, the caller taken
from the Cognito claims and the same response shapes (pydantic models, ETag header). It is not
part of the product; it exists so that the figures of ``python -m benchmarks.api`` are ratios
measured in the same run, on the same machine, against the same database.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors
from fastapi import FastAPI, HTTPException, Query, Request, Response
from mangum import Mangum
from pydantic import BaseModel, Field

_COLUMNS = "id, public_id, reference, title, description, status, owner, version, created_at, updated_at"


class DossierOut(BaseModel):
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    reference: str
    title: str
    description: str | None
    status: str
    owner: str
    version: int
    created_at: datetime
    updated_at: datetime


class DossierPage(BaseModel):
    items: list[DossierOut]
    next_cursor: str | None


class _Connection:
    """One connection per execution environment, reopened when it was closed."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.options: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 3306,
            "user": unquote(parts.username or "root"),
            "password": unquote(parts.password or ""),
            "database": parts.path.lstrip("/"),
            "charset": "utf8mb4",
            "autocommit": True,
            "cursorclass": pymysql.cursors.DictCursor,
            "connect_timeout": 5.0,
            "read_timeout": 30,
            "write_timeout": 30,
            "ssl_disabled": True,  # as the Patronus connection without TLS settings
        }
        self.connection: Any = None

    def query(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        if self.connection is None or not self.connection.open:
            self.connection = pymysql.connect(**self.options)
        with self.connection.cursor() as cursor:
            cursor.execute("START TRANSACTION READ ONLY")
            cursor.execute(sql, params)
            rows = list(cursor.fetchall())
        self.connection.commit()
        return rows


db = _Connection(os.environ["PATRONUS_DB_URL"])
app = FastAPI(title="Baseline", version="1.0.0")


def _caller(request: Request) -> str:
    event = request.scope.get("aws.event") or {}
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    if not claims.get("sub"):
        raise HTTPException(status_code=401, detail="authentication required")
    return str(claims["sub"])


def _out(row: dict[str, Any]) -> DossierOut:
    return DossierOut(
        id=row["public_id"],
        reference=row["reference"],
        title=row["title"],
        description=row["description"],
        status=row["status"],
        owner=row["owner"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


@app.get("/v1/dossiers/{dossier_id}", response_model=DossierOut)
def get_dossier(dossier_id: str, request: Request, response: Response) -> DossierOut:
    _caller(request)
    rows = db.query(f"SELECT {_COLUMNS} FROM dossiers WHERE public_id = %s", (dossier_id,))
    if not rows:
        raise HTTPException(status_code=404, detail="no such dossier")
    response.headers["ETag"] = f'"{rows[0]["version"]}"'
    return _out(rows[0])


@app.get("/v1/dossiers", response_model=DossierPage)
def list_dossiers(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> DossierPage:
    _caller(request)
    after = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))[3:]) if cursor else None
    where = "WHERE id < %s " if after is not None else ""
    params: tuple[Any, ...] = (after, limit + 1) if after is not None else (limit + 1,)
    rows = db.query(f"SELECT {_COLUMNS} FROM dossiers {where}ORDER BY id DESC LIMIT %s", params)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = (
        base64.urlsafe_b64encode(f"k1:{page[-1]['id']}".encode()).decode().rstrip("=") if more else None
    )
    return DossierPage(items=[_out(r) for r in page], next_cursor=next_cursor)


handler = Mangum(app, lifespan="off")
