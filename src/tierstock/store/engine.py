"""Engines for the embedded default (SQLite, WAL) and for PostgreSQL (psycopg 3).

SQLite allows one writer at a time. Write transactions start with ``BEGIN IMMEDIATE``
so that a transaction never starts as a reader and fails when it later needs the write
lock; waiting writers queue on the busy timeout instead of erroring. Read-only units of
work (``execution_options(tierstock_readonly=True)``) keep the plain deferred BEGIN so
product-card reads never queue behind the burst's writers.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

__all__ = ["ConstraintViolation", "Engine", "database_identity", "dialect_of", "make_engine"]

SQLITE_BUSY_TIMEOUT_S = 60

# A write the database refused for a constraint (a duplicate key, a foreign key):
# callers outside store/ catch this name, never SQLAlchemy's.
ConstraintViolation = IntegrityError

_WRITE_LOCKS: dict[int, threading.Lock] = {}


def sqlite_write_lock(engine: Engine) -> threading.Lock | None:
    """The in-process writer queue of a SQLite engine (``None`` for other databases).

    SQLite admits one writer; left to itself, a waiting writer polls with sleeps of up
    to 100 ms (the busy handler), which wrecks a burst. Threads of one process queue on
    this lock instead; other processes still meet the busy timeout.
    """
    if engine.dialect.name != "sqlite":
        return None
    return _WRITE_LOCKS.setdefault(id(engine), threading.Lock())


def normalise_url(url: str) -> str:
    """Accept the plain ``postgresql://`` spelling and route it through psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 8, max_overflow: int = 32) -> Engine:
    """One engine per process. PostgreSQL pools stay well under the server's default of
    100 connections so a server, a CLI and a test run can share one database server.

    No pre-ping: it would add a round trip to every order. A connection the server
    dropped fails one request (SQLAlchemy then discards the pool's stale connections);
    clients retry with their Idempotency-Key, which is safe.
    """
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_size=pool_size, max_overflow=max_overflow)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        pool_size=8,
        max_overflow=72,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("tierstock_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def dialect_of(engine: Engine) -> str:
    """``"sqlite"`` or ``"postgresql"``: for callers that must refuse a database kind."""
    return engine.dialect.name


def database_identity(engine: Engine) -> str:
    """A short name for this very database: its URL (no password) and, on PostgreSQL, its
    oid — so a database dropped and created again under the same name is another one
    (the Redis front names its keys after it and must never meet the old one's)."""
    oid = ""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            oid = str(
                conn.exec_driver_sql(
                    "SELECT oid FROM pg_database WHERE datname = current_database()"
                ).scalar_one()
            )
    url = engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(f"{url}#{oid}".encode()).hexdigest()[:12]
