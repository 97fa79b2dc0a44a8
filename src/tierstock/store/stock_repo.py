"""Stock tiers and the ledger. The hot path lives here: :meth:`StockRepository.take`.

Every stock change is one conditional UPDATE whose WHERE clause carries the rule, so
concurrent buyers never read-then-write in Python; the row's CHECK constraint refuses
an oversell even if a caller were wrong.

The hot-path statements (take, lock_tiers, record; orders in order_repo) run on the
raw driver connection: see :func:`driver`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.exc import DBAPIError

from tierstock.domain.allocation import TierStock
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.orders import LineStatus
from tierstock.domain.sales_forms import Tier
from tierstock.store.tables import order_lines, skus, stock_ledger, stock_tiers

_tier = stock_tiers.c


def _where_tier(sku_id: int, tier: Tier) -> Any:
    return (_tier.sku_id == sku_id) & (_tier.tier == tier.value)


# Hot-path statements are built once: building a statement costs more than running it.
_THIS_TIER = (_tier.sku_id == bindparam("b_sku_id")) & (_tier.tier == bindparam("b_tier"))
GIVE_BACK = (
    update(stock_tiers)
    .where(_THIS_TIER, _tier.sold >= bindparam("qty"))
    .values(sold=_tier.sold - bindparam("qty"))
)


# --- the raw driver on the hot path ---------------------------------------------------
def driver(conn: Connection) -> Any:
    """The DB-API connection (sqlite3, psycopg 3) under ``conn``, in its open transaction.

    Why: a Core ``execute`` costs tens of microseconds of Python per statement
    (execution context, parameter processing, result metadata, insertmanyvalues), more
    than the database needs for the hot path's small statements; the group-commit leader
    runs about eight of them per batch while every buyer waits. The few hot statements
    below are fixed SQL text, so the driver keeps them prepared (psycopg prepares a
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


_PG = "postgresql"
# The guard lives in the WHERE clause: a tier never gives more than it holds (and the
# row's CHECK constraint would refuse it anyway).
_TAKE_SQL = {
    "sqlite": "UPDATE stock_tiers SET sold = sold + ? WHERE sku_id = ? AND tier = ? "
    "AND sold + ? <= quantity RETURNING sold",
    _PG: "UPDATE stock_tiers SET sold = sold + %s WHERE sku_id = %s AND tier = %s "
    "AND sold + %s <= quantity RETURNING sold",
}
_LOCK_TIERS_PG = (
    "SELECT sku_id, tier, quantity, sold FROM stock_tiers "
    "WHERE sku_id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE"
)
_LOCK_TIERS_SQLITE = (
    "SELECT sku_id, tier, quantity, sold FROM stock_tiers WHERE sku_id IN ({}) ORDER BY id"
)
_LEDGER_COLUMNS = (
    "shop_id",
    "sku_id",
    "tier",
    "kind",
    "quantity_delta",
    "sold_delta",
    "actor",
    "reason",
    "created_at",
    "order_id",
    "line_no",
)
_RECORD_SQLITE = (
    f"INSERT INTO stock_ledger ({', '.join(_LEDGER_COLUMNS)}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_RECORD_PG = (
    f"INSERT INTO stock_ledger ({', '.join(_LEDGER_COLUMNS)}) "
    f"SELECT {', '.join(_LEDGER_COLUMNS)} "
    "FROM json_populate_recordset(NULL::stock_ledger, %s::json)"
)
_TIERS = {t.value: t for t in Tier}


class StockRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # the hot path ---------------------------------------------------------------------
    def take(self, sku_id: int, tier: Tier, quantity: int) -> int | None:
        """Promise ``quantity`` units of the tier if it holds them all.

        Returns the tier's ``sold`` after the change, or ``None`` if the tier is short.
        The row lock lasts from this UPDATE to the end of the (short) transaction.
        """
        row = raw_execute(
            self.conn, _TAKE_SQL[self.conn.dialect.name], (quantity, sku_id, tier, quantity)
        ).fetchone()
        return None if row is None else int(row[0])

    def lock_tiers(self, sku_ids: Iterable[int]) -> dict[int, dict[Tier, TierStock]]:
        """Read the tiers of several SKUs under row locks, in id order (so two batches
        never deadlock). Used by batched allocation, which then writes one conditional
        UPDATE per tier for the whole batch. (SQLite: the write lock of ``BEGIN
        IMMEDIATE`` already excludes every other writer.)"""
        ids = sorted(set(sku_ids))
        if not ids:
            return {}
        if self.conn.dialect.name == _PG:
            rows = raw_execute(self.conn, _LOCK_TIERS_PG, (ids,))
        else:
            rows = raw_execute(self.conn, _LOCK_TIERS_SQLITE.format(placeholders(len(ids))), ids)
        found: dict[int, dict[Tier, TierStock]] = {}
        for sku_id, name, quantity, sold in rows:
            tier = _TIERS[name]
            found.setdefault(sku_id, {})[tier] = TierStock(tier, quantity, sold)
        return found

    def give_back(self, sku_id: int, tier: Tier, quantity: int) -> None:
        """Return cancelled units to the tier they came from."""
        result = self.conn.execute(GIVE_BACK, {"b_sku_id": sku_id, "b_tier": tier, "qty": quantity})
        if result.rowcount != 1:
            raise RuntimeError(f"tier {tier} of SKU {sku_id} holds fewer sold units than a line")

    # receipts and set stock -------------------------------------------------------------
    def add_quantity(self, sku_id: int, tier: Tier, delta: int) -> TierStock:
        row = self.conn.execute(
            update(stock_tiers)
            .where(_where_tier(sku_id, tier))
            .values(quantity=_tier.quantity + delta)
            .returning(_tier.quantity, _tier.sold)
        ).one()
        return TierStock(tier, row.quantity, row.sold)

    def lock_tier(self, sku_id: int, tier: Tier) -> TierStock:
        """Read one tier under a row lock (set stock needs the old figure for its
        ledger delta; SQLite's BEGIN IMMEDIATE already serialises writers)."""
        row = self.conn.execute(
            select(_tier.quantity, _tier.sold).where(_where_tier(sku_id, tier)).with_for_update()
        ).one()
        return TierStock(tier, row.quantity, row.sold)

    def set_quantity(self, sku_id: int, tier: Tier, quantity: int) -> None:
        self.conn.execute(
            update(stock_tiers).where(_where_tier(sku_id, tier)).values(quantity=quantity)
        )

    # reads -----------------------------------------------------------------------------
    def tiers(self, sku_ids: Iterable[int]) -> dict[int, dict[Tier, TierStock]]:
        rows = self.conn.execute(
            select(_tier.sku_id, _tier.tier, _tier.quantity, _tier.sold).where(
                _tier.sku_id.in_(set(sku_ids))
            )
        )
        found: dict[int, dict[Tier, TierStock]] = {}
        for r in rows:
            tier = Tier(r.tier)
            found.setdefault(r.sku_id, {})[tier] = TierStock(tier, r.quantity, r.sold)
        return found

    # ledger ------------------------------------------------------------------------------
    def record(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ledger entries, one statement for all of them (raw driver: hot path)."""
        if not entries:
            return
        rows = [
            (
                e.shop_id,
                e.sku_id,
                e.tier,
                e.kind,
                e.quantity_delta,
                e.sold_delta,
                e.actor,
                e.reason,
                utc_text(e.created_at),
                e.order_id,
                e.line_no,
            )
            for e in entries
        ]
        if self.conn.dialect.name == _PG:
            raw_execute(self.conn, _RECORD_PG, (json_rows(_LEDGER_COLUMNS, rows),))
        else:
            raw_executemany(self.conn, _RECORD_SQLITE, rows)

    def ledger(self, shop_id: int, sku_id: int, *, offset: int, limit: int) -> list[LedgerEntry]:
        rows = self.conn.execute(
            select(stock_ledger)
            .where(stock_ledger.c.shop_id == shop_id, stock_ledger.c.sku_id == sku_id)
            .order_by(stock_ledger.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [
            LedgerEntry(
                shop_id=r.shop_id,
                sku_id=r.sku_id,
                tier=Tier(r.tier),
                kind=LedgerKind(r.kind),
                quantity_delta=r.quantity_delta,
                sold_delta=r.sold_delta,
                actor=r.actor,
                reason=r.reason,
                created_at=r.created_at,
                order_id=r.order_id,
                line_no=r.line_no,
            )
            for r in rows
        ]

    def audit_rows(self, shop_id: int | None) -> list[Any]:
        """Per tier: stored figures, ledger sums and units held by paid lines (the sums
        are restricted to the shop first, so checking one shop reads only its rows)."""

        def scoped(query: Any, table: Any) -> Any:
            return query if shop_id is None else query.where(table.c.shop_id == shop_id)

        ledger = (
            scoped(
                select(
                    stock_ledger.c.sku_id,
                    stock_ledger.c.tier,
                    func.sum(stock_ledger.c.quantity_delta).label("q"),
                    func.sum(stock_ledger.c.sold_delta).label("s"),
                ),
                stock_ledger,
            )
            .group_by(stock_ledger.c.sku_id, stock_ledger.c.tier)
            .subquery()
        )
        held = (
            scoped(
                select(
                    order_lines.c.sku_id,
                    order_lines.c.tier,
                    func.sum(order_lines.c.quantity).label("h"),
                ).where(order_lines.c.status == LineStatus.PAID.value),
                order_lines,
            )
            .group_by(order_lines.c.sku_id, order_lines.c.tier)
            .subquery()
        )
        query = scoped(
            select(
                _tier.sku_id,
                skus.c.code,
                _tier.tier,
                _tier.quantity,
                _tier.sold,
                func.coalesce(ledger.c.q, 0).label("ledger_quantity"),
                func.coalesce(ledger.c.s, 0).label("ledger_sold"),
                func.coalesce(held.c.h, 0).label("held"),
            )
            .join(skus, skus.c.id == _tier.sku_id)
            .outerjoin(ledger, (ledger.c.sku_id == _tier.sku_id) & (ledger.c.tier == _tier.tier))
            .outerjoin(held, (held.c.sku_id == _tier.sku_id) & (held.c.tier == _tier.tier))
            .order_by(_tier.sku_id, _tier.tier),
            stock_tiers,
        )
        return list(self.conn.execute(query))
