"""Hand-written SQL, one module per database, and the choice between them.

``sqlite.py`` and ``postgresql.py`` define the same statement names (a statement one
database does not need is ``None`` there, with a comment saying why), so a statement's
two spellings sit side by side and tests/integration/test_dialect_sql.py runs each on
its own database and checks that neither module lacks a name. ``driver.py`` runs them
on the raw driver connection (why: see :func:`driver.driver`).

Repositories pick a statement with ``dialect_sql(conn).TAKE``: one dict lookup on the
dialect's name, no object built per call (several of these run on the hot path).
SQLAlchemy constructs with ON CONFLICT take their ``insert`` from :func:`upsert_insert`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from sqlalchemy import Connection, TableClause
from sqlalchemy.dialects import postgresql as sa_postgresql
from sqlalchemy.dialects import sqlite as sa_sqlite

from tierstock.store.sql import postgresql, sqlite

__all__ = [
    "POSTGRESQL",
    "UPSERT_INSERTS",
    "DialectSql",
    "UpsertInsert",
    "dialect_sql",
    "postgresql",
    "sqlite",
    "upsert_insert",
]

POSTGRESQL = "postgresql"
"""``conn.dialect.name`` of PostgreSQL: where a statement's parameters take another
shape (one array or JSON parameter instead of one placeholder per value or row)."""


class DialectSql(Protocol):
    """The statements each dialect module defines (mypy checks both modules against it;
    read-only members, so a module's ``None`` or ``str`` fits ``str | None``).

    Parameters: PostgreSQL takes a list as one array or ``driver.json_rows`` parameter;
    SQLite takes one ``?`` per value (``{}`` in the text: ``driver.placeholders(n)``)
    and a batch of rows through ``driver.raw_executemany``.
    """

    @property
    def TAKE(self) -> str:
        """Add to a tier's sold units if they fit: (qty, sku_id, tier, qty) → new sold."""

    @property
    def LOCK_TIERS(self) -> str:
        """The tiers of several SKUs, locked, in id order: sku_id, tier, quantity, sold."""

    @property
    def RECORD(self) -> str:
        """Append ledger rows (columns.LEDGER_COLUMNS)."""

    @property
    def FIND_KEYS(self) -> str:
        """Orders of (shop, key) pairs. SQLite, per shop: key, id, request_hash;
        PostgreSQL: shop_id, key, id, request_hash."""

    @property
    def ADD_ORDERS(self) -> str:
        """Insert orders (columns.ORDER_COLUMNS). PostgreSQL returns shop_id, key, id."""

    @property
    def LAST_ORDER_ID(self) -> str | None:
        """SQLite only: the id of the last order ADD_ORDERS inserted."""

    @property
    def INSERT_LINES(self) -> str:
        """Insert order lines (columns.LINE_COLUMNS)."""

    @property
    def SKUS_FOR_SALE(self) -> str:
        """A shop's SKUs by id with the listed flag (columns.SKU_FOR_SALE_COLUMNS)."""

    @property
    def NEXT_ORDER_IDS(self) -> str | None:
        """PostgreSQL only (the Redis front): ``n`` fresh ids from the orders sequence."""

    @property
    def FOLD_ORDERS(self) -> str | None:
        """PostgreSQL only (the Redis front): insert orders with their ids, skip known ids."""


_BY_DIALECT: dict[str, DialectSql] = {"sqlite": sqlite, POSTGRESQL: postgresql}


def dialect_sql(conn: Connection) -> DialectSql:
    """The statements of ``conn``'s database (the module itself: nothing is built)."""
    return _BY_DIALECT[conn.dialect.name]


UpsertInsert = Callable[[TableClause], sa_postgresql.Insert | sa_sqlite.Insert]
"""``insert(table)`` of a dialect whose Insert has ``on_conflict_do_nothing`` /
``on_conflict_do_update`` (SQLAlchemy's generic ``insert`` has neither)."""
UPSERT_INSERTS: Mapping[str, UpsertInsert] = {
    "sqlite": sa_sqlite.insert,
    POSTGRESQL: sa_postgresql.insert,
}
"""Per dialect name, for statements built once per dialect when a module loads."""


def upsert_insert(conn: Connection) -> UpsertInsert:
    """The ``insert`` of ``conn``'s dialect, for an INSERT … ON CONFLICT."""
    return UPSERT_INSERTS[conn.dialect.name]
