"""Orders and order lines.

The batch statements of the group-commit hot path (find_keys, add_orders,
insert_lines_of) run on the raw driver connection (see ``store/sql/driver.py``); their
SQLite and PostgreSQL text sits side by side in ``store/sql/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, select, update

from tierstock.domain.orders import LineStatus, NewLine, Order, OrderLine
from tierstock.domain.sales_forms import Tier
from tierstock.store.sql import POSTGRESQL, UPSERT_INSERTS, dialect_sql
from tierstock.store.sql.columns import KEY_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS
from tierstock.store.sql.driver import (
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


# INSERT … ON CONFLICT (shop_id, idempotency_key) DO NOTHING RETURNING id, built once
# per dialect (insert_order is on the per-order hot path).
CLAIM_KEY: dict[str, Insert] = {
    name: insert(orders)
    .on_conflict_do_nothing(index_elements=["shop_id", "idempotency_key"])
    .returning(orders.c.id)
    for name, insert in UPSERT_INSERTS.items()
}
_PAID = LineStatus.PAID.value
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
        sql = dialect_sql(self.conn)
        last_id = sql.LAST_ORDER_ID
        if last_id is None:  # PostgreSQL: each new id comes back with its key
            ids = {
                (shop, key): order_id
                for shop, key, order_id in raw_execute(
                    self.conn, sql.ADD_ORDERS, (json_rows(ORDER_COLUMNS, values),)
                )
            }
            return [ids[(shop, key)] for shop, key, *_ in values]
        # SQLite: sqlite3 has no RETURNING for ``executemany``; the ids are contiguous
        # instead: an INTEGER PRIMARY KEY left NULL becomes the largest rowid + 1, and
        # ``BEGIN IMMEDIATE`` keeps every other writer out until this transaction ends.
        raw_executemany(self.conn, sql.ADD_ORDERS, values)
        (last,) = raw_execute(self.conn, last_id).fetchone()
        return list(range(last - len(values) + 1, last + 1))

    def find_keys(self, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], KeyedOrder]:
        """Which of these (shop, key) pairs already have an order (raw driver: hot path)."""
        if not keys:
            return {}
        sql = dialect_sql(self.conn).FIND_KEYS
        if self.conn.dialect.name == POSTGRESQL:
            # Planned afresh each time: a plan cached while `orders` was small would
            # keep scanning it as a burst makes it large.
            rows = raw_execute(self.conn, sql, (json_rows(KEY_COLUMNS, keys),), prepare=False)
            return {
                (shop, key): KeyedOrder(order_id, digest) for shop, key, order_id, digest in rows
            }
        by_shop: dict[int, list[str]] = {}
        for shop, key in keys:
            by_shop.setdefault(shop, []).append(key)
        return {
            (shop, key): found
            for shop, shop_keys in by_shop.items()
            for key, found in self._find_keys_sqlite(sql, shop, shop_keys).items()
        }

    def _find_keys_sqlite(self, sql: str, shop_id: int, keys: list[str]) -> dict[str, KeyedOrder]:
        rows = raw_execute(self.conn, sql.format(placeholders(len(keys))), (shop_id, *keys))
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
        sql = dialect_sql(self.conn).INSERT_LINES
        if self.conn.dialect.name == POSTGRESQL:
            raw_execute(self.conn, sql, (json_rows(LINE_COLUMNS, values),))
        else:
            raw_executemany(self.conn, sql, values)

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
