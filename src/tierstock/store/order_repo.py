"""Orders and order lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from tierstock.domain.orders import LineStatus, Order, OrderLine
from tierstock.domain.sales_forms import Tier
from tierstock.store.tables import order_lines, orders


@dataclass(frozen=True)
class NewLine:
    """A line about to be written: the allocation result of the hot path."""

    line_no: int
    sku_id: int
    quantity: int
    tier: Tier
    unit_price_fen: int
    ship_by: datetime
    tier_sold_after: int


@dataclass(frozen=True)
class KeyedOrder:
    order_id: int
    request_hash: str


def _claim_key(dialect: Any) -> Insert:
    """INSERT … ON CONFLICT (shop_id, idempotency_key) DO NOTHING RETURNING id."""
    stmt: Insert = (
        dialect.insert(orders)
        .on_conflict_do_nothing(index_elements=["shop_id", "idempotency_key"])
        .returning(orders.c.id)
    )
    return stmt


CLAIM_KEY = {"postgresql": _claim_key(postgresql), "sqlite": _claim_key(sqlite)}
INSERT_LINES = order_lines.insert()
MARK_CANCELLED = (
    update(order_lines)
    .where(order_lines.c.order_id == bindparam("b_order_id"),
           order_lines.c.line_no == bindparam("b_line_no"),
           order_lines.c.status == LineStatus.PAID.value)
    .values(status=LineStatus.CANCELLED.value, cancelled_at=bindparam("at"))
)


class OrderRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_order(self, shop_id: int, key: str, request_hash: str, buyer: str | None,
                     paid_at: datetime) -> int | None:
        """Create the order row; ``None`` if this shop already used ``key``.

        On PostgreSQL a concurrent insert of the same key waits for the first
        transaction, so two retries racing each other cannot both allocate.
        """
        result: int | None = self.conn.execute(
            CLAIM_KEY[self.conn.dialect.name],
            {"shop_id": shop_id, "idempotency_key": key, "request_hash": request_hash,
             "buyer": buyer, "paid_at": paid_at},
        ).scalar_one_or_none()
        return result

    def insert_orders(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert several orders at once (one round trip); ids come back in row order.

        A key another process used meanwhile raises the driver's IntegrityError: the
        batch that tried it falls back to placing its orders one by one.
        """
        result = self.conn.execute(
            insert(orders).returning(orders.c.id, sort_by_parameter_order=True), list(rows)
        )
        return [row.id for row in result]

    def find_keys(self, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], KeyedOrder]:
        """Which of these (shop, key) pairs already have an order."""
        if not keys:
            return {}
        rows = self.conn.execute(
            select(orders.c.shop_id, orders.c.idempotency_key, orders.c.id,
                   orders.c.request_hash)
            .where(tuple_(orders.c.shop_id, orders.c.idempotency_key).in_(list(keys)))
        )
        return {(r.shop_id, r.idempotency_key): KeyedOrder(r.id, r.request_hash) for r in rows}

    def insert_lines_of(self, rows: Sequence[tuple[int, int, NewLine]]) -> None:
        """Lines of several orders: (shop_id, order_id, line) triples, one round trip."""
        self.conn.execute(INSERT_LINES, [_line_row(shop, order, ln) for shop, order, ln in rows])

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
            select(order_lines).where(order_lines.c.order_id == order_id)
            .order_by(order_lines.c.line_no)
        )
        return Order(head.id, head.shop_id, head.buyer, head.paid_at,
                     tuple(_line(r) for r in rows))

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
        return list(self.conn.execute(
            select(order_lines.c.order_id, order_lines.c.line_no, order_lines.c.tier,
                   order_lines.c.quantity, order_lines.c.status,
                   order_lines.c.tier_sold_after, order_lines.c.ship_by)
            .where(order_lines.c.sku_id == sku_id)
            .order_by(order_lines.c.id)
        ))


_PAID = LineStatus.PAID.value


def _line_row(shop_id: int, order_id: int, ln: NewLine) -> dict[str, Any]:
    return {"shop_id": shop_id, "order_id": order_id, "line_no": ln.line_no,
            "sku_id": ln.sku_id, "tier": ln.tier, "quantity": ln.quantity,
            "unit_price_fen": ln.unit_price_fen, "ship_by": ln.ship_by,
            "status": _PAID, "tier_sold_after": ln.tier_sold_after}


def _line(r: Any) -> OrderLine:
    return OrderLine(
        line_no=r.line_no, sku_id=r.sku_id, quantity=r.quantity, tier=Tier(r.tier),
        unit_price_fen=r.unit_price_fen, ship_by=r.ship_by, status=LineStatus(r.status),
    )
