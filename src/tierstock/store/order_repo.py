"""Orders and order lines.

The batch statements of the group-commit hot path (find_keys, add_orders,
insert_lines_of) run on the raw driver connection: see ``stock_repo.driver``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tierstock.domain.orders import LineStatus, NewLine, Order, OrderLine
from tierstock.domain.sales_forms import Tier
from tierstock.store.stock_repo import (
    json_rows,
    placeholders,
    raw_execute,
    raw_executemany,
    utc_text,
)
from tierstock.store.tables import order_lines, orders


@dataclass(frozen=True)
class KeyedOrder:
    order_id: int
    request_hash: str


NewOrder = tuple[int, str, str, str | None, datetime]
"""An order row about to be written: (shop_id, idempotency_key, request_hash, buyer,
paid_at)."""


def _claim_key(dialect: Any) -> Insert:
    """INSERT … ON CONFLICT (shop_id, idempotency_key) DO NOTHING RETURNING id."""
    stmt: Insert = (
        dialect.insert(orders)
        .on_conflict_do_nothing(index_elements=["shop_id", "idempotency_key"])
        .returning(orders.c.id)
    )
    return stmt


CLAIM_KEY = {"postgresql": _claim_key(postgresql), "sqlite": _claim_key(sqlite)}
_PG = "postgresql"
_PAID = LineStatus.PAID.value
# Both forms probe the unique (shop_id, key) index once per key, whatever the table
# statistics say: SQLite scans the whole table for a row-value IN (VALUES …), and
# PostgreSQL chose a shop-wide scan for `key = ANY(…)` with stale statistics (the
# LIMIT keeps the lateral probe from being flattened into a hash join).
_FIND_KEYS_SQLITE = (
    "SELECT idempotency_key, id, request_hash FROM orders "
    "WHERE shop_id = ? AND idempotency_key IN ({})"
)
_FIND_KEYS_PG = (
    "SELECT k.shop_id, k.key, o.id, o.request_hash "
    "FROM json_to_recordset(%s::json) AS k(shop_id bigint, key text) "
    "CROSS JOIN LATERAL (SELECT id, request_hash FROM orders "
    "WHERE shop_id = k.shop_id AND idempotency_key = k.key LIMIT 1) AS o"
)
_ORDER_COLUMNS = ("shop_id", "idempotency_key", "request_hash", "buyer", "paid_at")
_ADD_ORDERS_SQLITE = f"INSERT INTO orders ({', '.join(_ORDER_COLUMNS)}) VALUES (?, ?, ?, ?, ?)"
# PostgreSQL does not promise RETURNING in input order: rows come back with their keys.
_ADD_ORDERS_PG = (
    f"INSERT INTO orders ({', '.join(_ORDER_COLUMNS)}) "
    f"SELECT {', '.join(_ORDER_COLUMNS)} "
    "FROM json_populate_recordset(NULL::orders, %s::json) "
    "RETURNING shop_id, idempotency_key, id"
)
_LINE_COLUMNS = (
    "shop_id",
    "order_id",
    "line_no",
    "sku_id",
    "tier",
    "quantity",
    "unit_price_fen",
    "ship_by",
    "status",
    "tier_sold_after",
)
_INSERT_LINES_SQLITE = (
    f"INSERT INTO order_lines ({', '.join(_LINE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_LINES_PG = (
    f"INSERT INTO order_lines ({', '.join(_LINE_COLUMNS)}) "
    f"SELECT {', '.join(_LINE_COLUMNS)} "
    "FROM json_populate_recordset(NULL::order_lines, %s::json)"
)
MARK_CANCELLED = (
    update(order_lines)
    .where(
        order_lines.c.order_id == bindparam("b_order_id"),
        order_lines.c.line_no == bindparam("b_line_no"),
        order_lines.c.status == LineStatus.PAID.value,
    )
    .values(status=LineStatus.CANCELLED.value, cancelled_at=bindparam("at"))
)


class OrderRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_order(
        self, shop_id: int, key: str, request_hash: str, buyer: str | None, paid_at: datetime
    ) -> int | None:
        """Create the order row; ``None`` if this shop already used ``key``.

        On PostgreSQL a concurrent insert of the same key waits for the first
        transaction, so two retries racing each other cannot both allocate.
        """
        result: int | None = self.conn.execute(
            CLAIM_KEY[self.conn.dialect.name],
            {
                "shop_id": shop_id,
                "idempotency_key": key,
                "request_hash": request_hash,
                "buyer": buyer,
                "paid_at": paid_at,
            },
        ).scalar_one_or_none()
        return result

    def insert_orders(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert several orders at once (one round trip); ids come back in row order.

        A key another process used meanwhile raises IntegrityError: the
        batch that tried it falls back to placing its orders one by one.
        """
        return self.add_orders(
            [
                (r["shop_id"], r["idempotency_key"], r["request_hash"], r["buyer"], r["paid_at"])
                for r in rows
            ]
        )

    def add_orders(self, rows: Sequence[NewOrder]) -> list[int]:
        """:meth:`insert_orders` for plain tuples (the hot path: no dict per order)."""
        if not rows:
            return []
        values = [
            (shop, key, digest, buyer, utc_text(paid)) for shop, key, digest, buyer, paid in rows
        ]
        if self.conn.dialect.name == _PG:
            return self._add_orders_pg(values)
        return self._add_orders_sqlite(values)

    def _add_orders_pg(self, values: list[tuple[Any, ...]]) -> list[int]:
        ids = {
            (shop, key): order_id
            for shop, key, order_id in raw_execute(
                self.conn, _ADD_ORDERS_PG, (json_rows(_ORDER_COLUMNS, values),)
            )
        }
        return [ids[(shop, key)] for shop, key, *_ in values]

    def _add_orders_sqlite(self, values: list[tuple[Any, ...]]) -> list[int]:
        """sqlite3 has no RETURNING for ``executemany``; the ids are contiguous instead:
        an INTEGER PRIMARY KEY left NULL becomes the largest rowid + 1, and ``BEGIN
        IMMEDIATE`` keeps every other writer out until this transaction ends."""
        raw_executemany(self.conn, _ADD_ORDERS_SQLITE, values)
        (last,) = raw_execute(self.conn, "SELECT last_insert_rowid()").fetchone()
        return list(range(last - len(values) + 1, last + 1))

    def find_keys(self, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], KeyedOrder]:
        """Which of these (shop, key) pairs already have an order (raw driver: hot path)."""
        if not keys:
            return {}
        if self.conn.dialect.name == _PG:
            # Planned afresh each time: a plan cached while `orders` was small would
            # keep scanning it as a burst makes it large.
            rows = raw_execute(
                self.conn, _FIND_KEYS_PG, (json_rows(("shop_id", "key"), keys),), prepare=False
            )
            return {
                (shop, key): KeyedOrder(order_id, digest) for shop, key, order_id, digest in rows
            }
        by_shop: dict[int, list[str]] = {}
        for shop, key in keys:
            by_shop.setdefault(shop, []).append(key)
        return {
            (shop, key): found
            for shop, shop_keys in by_shop.items()
            for key, found in self._find_keys_sqlite(shop, shop_keys).items()
        }

    def _find_keys_sqlite(self, shop_id: int, keys: list[str]) -> dict[str, KeyedOrder]:
        rows = raw_execute(
            self.conn, _FIND_KEYS_SQLITE.format(placeholders(len(keys))), (shop_id, *keys)
        )
        return {key: KeyedOrder(order_id, digest) for key, order_id, digest in rows}

    def insert_lines_of(self, rows: Sequence[tuple[int, int, NewLine]]) -> None:
        """Lines of several orders: (shop_id, order_id, line) triples, one statement."""
        if not rows:
            return
        values = [
            (
                shop,
                order,
                ln.line_no,
                ln.sku_id,
                ln.tier,
                ln.quantity,
                ln.unit_price_fen,
                utc_text(ln.ship_by),
                _PAID,
                ln.tier_sold_after,
            )
            for shop, order, ln in rows
        ]
        if self.conn.dialect.name == _PG:
            raw_execute(self.conn, _INSERT_LINES_PG, (json_rows(_LINE_COLUMNS, values),))
        else:
            raw_executemany(self.conn, _INSERT_LINES_SQLITE, values)

    def find_by_key(self, shop_id: int, key: str) -> KeyedOrder | None:
        row = self.conn.execute(
            select(orders.c.id, orders.c.request_hash).where(
                orders.c.shop_id == shop_id, orders.c.idempotency_key == key
            )
        ).first()
        return KeyedOrder(row.id, row.request_hash) if row else None

    def insert_lines(self, shop_id: int, order_id: int, lines: Sequence[NewLine]) -> None:
        self.insert_lines_of([(shop_id, order_id, ln) for ln in lines])

    def get(self, shop_id: int, order_id: int) -> Order | None:
        head = self.conn.execute(
            select(orders).where(orders.c.id == order_id, orders.c.shop_id == shop_id)
        ).first()
        if head is None:
            return None
        rows = self.conn.execute(
            select(order_lines)
            .where(order_lines.c.order_id == order_id)
            .order_by(order_lines.c.line_no)
        )
        return Order(head.id, head.shop_id, head.buyer, head.paid_at, tuple(_line(r) for r in rows))

    def mark_cancelled(self, order_id: int, line_no: int, at: datetime) -> bool:
        """Flip a paid line to cancelled; ``False`` if it was not paid (any more).

        The status check sits in the WHERE clause so two concurrent cancels of the same
        line return its units once.
        """
        result = self.conn.execute(
            MARK_CANCELLED, {"b_order_id": order_id, "b_line_no": line_no, "at": at}
        )
        return result.rowcount == 1

    def lines_of_sku(self, sku_id: int) -> list[Any]:
        """Every line of a SKU with its allocation position (for audits and tests)."""
        return list(
            self.conn.execute(
                select(
                    order_lines.c.order_id,
                    order_lines.c.line_no,
                    order_lines.c.tier,
                    order_lines.c.quantity,
                    order_lines.c.status,
                    order_lines.c.tier_sold_after,
                    order_lines.c.ship_by,
                )
                .where(order_lines.c.sku_id == sku_id)
                .order_by(order_lines.c.id)
            )
        )


def _line(r: Any) -> OrderLine:
    return OrderLine(
        line_no=r.line_no,
        sku_id=r.sku_id,
        quantity=r.quantity,
        tier=Tier(r.tier),
        unit_price_fen=r.unit_price_fen,
        ship_by=r.ship_by,
        status=LineStatus(r.status),
    )
