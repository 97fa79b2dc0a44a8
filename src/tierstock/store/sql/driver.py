"""The raw driver on the hot path, and the values it sends.

The hot-path statements (take, lock_tiers, record; orders in order_repo; skus_for_sale
in catalogue_repo) and the front's fold run on the DB-API connection: see
:func:`driver` for why. Their SQL text lives next door, in ``sqlite.py`` and
``postgresql.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def driver(conn: Connection) -> Any:
    """The DB-API connection (sqlite3, psycopg 3) under ``conn``, in its open transaction.

    Why: a Core ``execute`` costs tens of microseconds of Python per statement
    (execution context, parameter processing, result metadata, insertmanyvalues), more
    than the database needs for the hot path's small statements; the group-commit leader
    runs about eight of them per batch while every buyer waits. The few hot statements
    are fixed SQL text, so the driver keeps them prepared (psycopg prepares a
    repeated query; sqlite3 caches compiled statements per connection).

    The unit of work still owns the transaction: SQLAlchemy began it (``BEGIN
    IMMEDIATE`` on SQLite; psycopg opens one implicitly) and commits or rolls it back,
    and that rollback lets SQLAlchemy invalidate a connection the server dropped.
    Use :func:`raw_execute` / :func:`raw_executemany`, which keep SQLAlchemy's errors.
    """
    return conn.connection.driver_connection


def raw_execute(
    conn: Connection,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
    *,
    prepare: bool | None = None,
) -> Any:
    """Run one statement on the driver (see :func:`driver`); returns the driver's cursor.
    ``prepare`` (psycopg only): ``False`` plans the statement afresh every time."""
    try:
        if prepare is None:
            return driver(conn).execute(sql, params)
        return driver(conn).execute(sql, params, prepare=prepare)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _sqlalchemy_error(conn, sql, params, exc) from exc


def raw_executemany(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement per row on the driver, in one call (sqlite3: a C loop)."""
    try:
        driver(conn).executemany(sql, rows)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _sqlalchemy_error(conn, sql, rows, exc) from exc


def _sqlalchemy_error(conn: Connection, sql: str, params: Any, exc: Exception) -> Exception:
    """The exception ``conn.execute`` would have raised (IntegrityError, DataError, …),
    so callers and the unit of work (a DataError is bad input, a 422) see no difference."""
    return DBAPIError.instance(
        sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
    )


def utc_text(value: datetime) -> str:
    """A ``UTCDateTime`` value as the raw driver sends it: naive UTC text,
    'YYYY-MM-DD HH:MM:SS.ffffff' — exactly what SQLAlchemy stores on SQLite, and what a
    PostgreSQL ``timestamp`` parses to the value SQLAlchemy would bind (tests/unit)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def json_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows for PostgreSQL's ``json_populate_recordset``: one JSON text parameter.

    Why not one array per column (``unnest``): psycopg dumps arrays element by element
    in Python, several times slower than ``json.dumps`` of the whole batch; the JSON
    form also keeps one fixed statement text whatever the number of rows, and the
    table's own row type gives each column its type.
    """
    return json.dumps([dict(zip(columns, row, strict=True)) for row in rows])


def placeholders(n: int) -> str:
    """``?, ?, …`` for an SQLite ``IN`` list of ``n`` values."""
    return ", ".join("?" * n)
