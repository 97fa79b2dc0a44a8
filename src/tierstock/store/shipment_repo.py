"""Shipments (发货) and the order lines they ship."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, select, update

from tierstock.domain.fulfilment import LineRef, Shipment
from tierstock.domain.orders import LineStatus
from tierstock.domain.sales_forms import Tier
from tierstock.store.sql import UPSERT_INSERTS
from tierstock.store.tables import order_lines, orders, shipments

# Built once per dialect; the unique line_id makes a second shipment of a line a no-op.
INSERT_ONCE: dict[str, Insert] = {
    name: insert(shipments)
    .on_conflict_do_nothing(index_elements=["line_id"])
    .returning(shipments.c.id)
    for name, insert in UPSERT_INSERTS.items()
}
LINE_COLUMNS = (
    order_lines.c.id,
    order_lines.c.shop_id,
    order_lines.c.order_id,
    order_lines.c.line_no,
    order_lines.c.sku_id,
    order_lines.c.tier,
    order_lines.c.quantity,
    order_lines.c.unit_price_fen,
    order_lines.c.ship_by,
    order_lines.c.status,
    orders.c.paid_at,
)


def line_ref(r: Any) -> LineRef:
    return LineRef(
        r.id,
        r.shop_id,
        r.order_id,
        r.line_no,
        r.sku_id,
        Tier(r.tier),
        r.quantity,
        r.unit_price_fen,
        r.ship_by,
        LineStatus(r.status),
        r.paid_at,
    )


class ShipmentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find_line(
        self, shop_id: int, order_id: int, line_no: int, *, lock: bool = False
    ) -> LineRef | None:
        """The line if it belongs to ``shop_id``; ``lock`` holds its row (PostgreSQL) so
        a concurrent ship, delay or cancel waits (SQLite has one writer anyway)."""
        stmt = (
            select(*LINE_COLUMNS)
            .join(orders, orders.c.id == order_lines.c.order_id)
            .where(
                order_lines.c.shop_id == shop_id,
                order_lines.c.order_id == order_id,
                order_lines.c.line_no == line_no,
            )
        )
        if lock:
            stmt = stmt.with_for_update(of=order_lines)
        row = self.conn.execute(stmt).first()
        return line_ref(row) if row else None

    def add(self, shop_id: int, s: Shipment) -> bool:
        """Record ``s``; ``False`` if the line already has a shipment."""
        new_id = self.conn.execute(
            INSERT_ONCE[self.conn.dialect.name],
            {
                "shop_id": shop_id,
                "line_id": s.line_id,
                "carrier": s.carrier,
                "tracking_no": s.tracking_no,
                "shipped_at": s.shipped_at,
                "deadline": s.deadline,
                "outcome": s.outcome,
                "actor": s.actor,
                "recorded_at": s.recorded_at,
                "picked_up_at": s.picked_up_at,
            },
        ).scalar_one_or_none()
        return new_id is not None

    def of_line(self, line: LineRef) -> Shipment | None:
        row = self.conn.execute(select(shipments).where(shipments.c.line_id == line.id)).first()
        return None if row is None else _shipment(row, line.order_id, line.line_no)

    def of_order(self, shop_id: int, order_id: int) -> dict[int, Shipment]:
        """The order's shipments by line number."""
        rows = self.conn.execute(
            select(shipments, order_lines.c.order_id, order_lines.c.line_no)
            .join(order_lines, order_lines.c.id == shipments.c.line_id)
            .where(shipments.c.shop_id == shop_id, order_lines.c.order_id == order_id)
        )
        return {r.line_no: _shipment(r, r.order_id, r.line_no) for r in rows}

    def set_pickup(self, line_id: int, picked_up_at: datetime, outcome: str) -> bool:
        """Record the carrier's pickup once (and the outcome it makes); ``False`` if one
        was recorded meanwhile."""
        result = self.conn.execute(
            update(shipments)
            .where(shipments.c.line_id == line_id, shipments.c.picked_up_at.is_(None))
            .values(picked_up_at=picked_up_at, outcome=outcome)
        )
        return result.rowcount == 1


def _shipment(row: Any, order_id: int, line_no: int) -> Shipment:
    return Shipment(
        row.line_id,
        order_id,
        line_no,
        row.carrier,
        row.tracking_no,
        row.shipped_at,
        row.deadline,
        row.outcome,
        row.actor,
        row.recorded_at,
        row.picked_up_at,
    )
