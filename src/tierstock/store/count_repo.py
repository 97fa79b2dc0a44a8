"""Stock counts, on-hand stock at a past moment, the count adjustment, and the outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, or_, select, tuple_, update

from tierstock.domain.counts import CountLine, CountStatus, Event, PromisedLine, StockCount
from tierstock.domain.orders import LineStatus
from tierstock.domain.sales_forms import Tier
from tierstock.store.count_tables import outbox, stock_count_lines, stock_counts
from tierstock.store.rows import insert_new
from tierstock.store.tables import order_lines, orders, shipments, shops, skus, stock_ledger
from tierstock.store.tables import stock_tiers as _tiers

_c = stock_counts.c
_l = stock_count_lines.c
SPOT = Tier.SPOT.value


def _count(r: Any) -> StockCount:
    return StockCount(
        r.id,
        r.shop_id,
        r.warehouse,
        CountStatus(r.status),
        None if r.sku_ids is None else tuple(r.sku_ids),
        r.opened_at,
        r.opened_by,
        r.note,
        r.approved_at,
        r.approved_by,
    )


class CountRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # counts ------------------------------------------------------------------------------
    def open(
        self,
        shop_id: int,
        warehouse: str,
        sku_ids: Sequence[int] | None,
        note: str,
        actor: str,
        at: datetime,
    ) -> StockCount | None:
        """A new open count, or ``None`` if the warehouse already has one open."""
        values = {
            "shop_id": shop_id,
            "warehouse": warehouse,
            "open_warehouse": warehouse,
            "status": CountStatus.OPEN.value,
            "sku_ids": None if sku_ids is None else list(sku_ids),
            "note": note,
            "opened_by": actor,
            "opened_at": at,
        }
        new_id = insert_new(self.conn, insert(stock_counts).values(**values).returning(_c.id))
        if new_id is None:
            return None
        return StockCount(
            new_id,
            shop_id,
            warehouse,
            CountStatus.OPEN,
            None if sku_ids is None else tuple(sku_ids),
            at,
            actor,
            note,
        )

    def get(self, shop_id: int, count_id: int, *, lock: bool = False) -> StockCount | None:
        stmt = select(stock_counts).where(_c.id == count_id, _c.shop_id == shop_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        return _count(row) if row else None

    def of_shop(self, shop_id: int, *, offset: int, limit: int) -> list[StockCount]:
        rows = self.conn.execute(
            select(stock_counts)
            .where(_c.shop_id == shop_id)
            .order_by(_c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_count(r) for r in rows]

    def approve(self, count_id: int, actor: str, at: datetime) -> bool:
        """Close the count; ``False`` if it was no longer open."""
        result = self.conn.execute(
            update(stock_counts)
            .where(_c.id == count_id, _c.status == CountStatus.OPEN.value)
            .values(
                status=CountStatus.APPROVED.value,
                open_warehouse=None,
                approved_by=actor,
                approved_at=at,
            )
        )
        return result.rowcount == 1

    def lock_shop(self, shop_id: int) -> None:
        """Serialise a shop's outbox writers so event ids commit in id order (readers
        page by id). FOR NO KEY UPDATE does not block inserts that reference the shop."""
        self.conn.execute(
            select(shops.c.id).where(shops.c.id == shop_id).with_for_update(key_share=True)
        )

    # SKUs ----------------------------------------------------------------------------------
    def sku_ids_by_code(self, shop_id: int, codes: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(codes))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            rows = self.conn.execute(
                select(skus.c.code, skus.c.id).where(
                    skus.c.shop_id == shop_id, skus.c.code.in_(wanted[start : start + 500])
                )
            )
            found.update({r.code: r.id for r in rows})
        return found

    def sku_codes(self, shop_id: int, sku_ids: Sequence[int] | None = None) -> dict[int, str]:
        """Codes of the shop's SKUs (all, or those of ``sku_ids`` that are the shop's)."""
        stmt = select(skus.c.id, skus.c.code).where(skus.c.shop_id == shop_id)
        if sku_ids is not None:
            stmt = stmt.where(skus.c.id.in_(sorted(set(sku_ids))))
        return {r.id: r.code for r in self.conn.execute(stmt.order_by(skus.c.id))}

    # stock at a moment -------------------------------------------------------------------
    def on_hand_at(self, shop_id: int, sku_ids: Iterable[int], at: datetime) -> dict[int, int]:
        """Physical spot stock at ``at``: spot quantity from the ledger up to ``at``, less
        units of spot lines shipped by then (a line cancelled before ``at`` holds none)."""
        ids = sorted(set(sku_ids))
        led = stock_ledger.c
        made = {
            r[0]: int(r[1])
            for r in self.conn.execute(
                select(led.sku_id, func.coalesce(func.sum(led.quantity_delta), 0))
                .where(
                    led.shop_id == shop_id,
                    led.tier == SPOT,
                    led.sku_id.in_(ids),
                    led.created_at <= at,
                )
                .group_by(led.sku_id)
            )
        }
        ol = order_lines.c
        gone = {
            r[0]: int(r[1])
            for r in self.conn.execute(
                select(ol.sku_id, func.coalesce(func.sum(ol.quantity), 0))
                .join(shipments, shipments.c.line_id == ol.id)
                .where(
                    ol.shop_id == shop_id,
                    ol.tier == SPOT,
                    ol.sku_id.in_(ids),
                    shipments.c.shipped_at <= at,
                    or_(ol.status == LineStatus.PAID.value, ol.cancelled_at > at),
                )
                .group_by(ol.sku_id)
            )
        }
        return {i: made.get(i, 0) - gone.get(i, 0) for i in ids}

    # lines -----------------------------------------------------------------------------
    def put_lines(
        self, shop_id: int, count_id: int, lines: Sequence[CountLine], actor: str, at: datetime
    ) -> None:
        """Save lines; a line for a (SKU, location) already counted replaces it."""
        if not lines:
            return
        keys = [(ln.sku_id, ln.location) for ln in lines]
        for start in range(0, len(keys), 500):
            self.conn.execute(
                delete(stock_count_lines).where(
                    _l.count_id == count_id,
                    tuple_(_l.sku_id, _l.location).in_(keys[start : start + 500]),
                )
            )
        self.conn.execute(
            insert(stock_count_lines),
            [
                {
                    "shop_id": shop_id,
                    "count_id": count_id,
                    "sku_id": ln.sku_id,
                    "location": ln.location,
                    "counted": ln.counted,
                    "system_on_hand": ln.system_on_hand,
                    "counted_at": ln.counted_at,
                    "counter": ln.counter,
                    "unit_cost_fen": ln.unit_cost_fen,
                    "entered_by": actor,
                    "entered_at": at,
                }
                for ln in lines
            ],
        )

    def lines(self, count_id: int) -> list[CountLine]:
        rows = self.conn.execute(
            select(stock_count_lines, skus.c.code)
            .join(skus, skus.c.id == _l.sku_id)
            .where(_l.count_id == count_id)
            .order_by(_l.sku_id, _l.location)
        )
        return [
            CountLine(
                r.sku_id,
                r.code,
                r.location,
                r.counted,
                r.system_on_hand,
                r.counted_at,
                r.counter,
                r.unit_cost_fen,
            )
            for r in rows
        ]

    # the adjustment ----------------------------------------------------------------------
    def lock_spot(self, sku_id: int) -> tuple[int, int]:
        """(quantity, sold) of the SKU's spot tier, under a row lock."""
        row = self.conn.execute(
            select(_tiers.c.quantity, _tiers.c.sold)
            .where(_tiers.c.sku_id == sku_id, _tiers.c.tier == SPOT)
            .with_for_update()
        ).one()
        return int(row.quantity), int(row.sold)

    def adjust_spot(self, sku_id: int, variance: int) -> tuple[int, int]:
        """quantity := max(sold, quantity + variance) in one statement, so no concurrent
        sale can be left above quantity; returns (quantity, sold) after."""
        target = _tiers.c.quantity + variance
        row = self.conn.execute(
            update(_tiers)
            .where(_tiers.c.sku_id == sku_id, _tiers.c.tier == SPOT)
            .values(quantity=case((target >= _tiers.c.sold, target), else_=_tiers.c.sold))
            .returning(_tiers.c.quantity, _tiers.c.sold)
        ).one()
        return int(row.quantity), int(row.sold)

    def promised_spot_lines(self, shop_id: int, sku_id: int) -> list[PromisedLine]:
        """Paid, unshipped spot lines of a SKU, earliest deadline first."""
        ol = order_lines.c
        rows = self.conn.execute(
            select(
                ol.order_id, ol.line_no, ol.quantity, orders.c.paid_at, ol.ship_by, orders.c.buyer
            )
            .join(orders, orders.c.id == ol.order_id)
            .outerjoin(shipments, shipments.c.line_id == ol.id)
            .where(
                ol.shop_id == shop_id,
                ol.sku_id == sku_id,
                ol.tier == SPOT,
                ol.status == LineStatus.PAID.value,
                shipments.c.id.is_(None),
            )
            .order_by(ol.ship_by, ol.order_id, ol.line_no)
        )
        return [
            PromisedLine(r.order_id, r.line_no, r.quantity, r.paid_at, r.ship_by, r.buyer)
            for r in rows
        ]

    # outbox ------------------------------------------------------------------------------
    def publish(
        self, shop_id: int, events: Sequence[tuple[str, dict[str, Any]]], at: datetime
    ) -> None:
        if events:
            self.conn.execute(
                insert(outbox),
                [
                    {"shop_id": shop_id, "topic": topic, "payload": payload, "created_at": at}
                    for topic, payload in events
                ],
            )

    def events(
        self, shop_id: int, *, after: int, limit: int, topic: str | None = None
    ) -> list[Event]:
        stmt = select(outbox).where(outbox.c.shop_id == shop_id, outbox.c.id > after)
        if topic is not None:
            stmt = stmt.where(outbox.c.topic == topic)
        rows = self.conn.execute(stmt.order_by(outbox.c.id).limit(limit))
        return [
            Event(r.id, r.shop_id, r.topic, dict(r.payload), r.created_at, r.published_at)
            for r in rows
        ]
