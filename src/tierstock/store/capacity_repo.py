"""Suppliers, capacity batches, their history, and the presale reads the capacity rules
need. :meth:`CapacityRepository.layout` is on the order hot path (presale lines only)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, or_, select, update

from tierstock.domain.capacity import (
    BatchAction,
    BatchStatus,
    CapacityBatch,
    CapacityLayout,
    PaidLine,
    Revision,
    Supplier,
    layout_of,
)
from tierstock.domain.errors import DuplicateError
from tierstock.domain.ledger import LedgerKind
from tierstock.domain.orders import LineStatus
from tierstock.domain.sales_forms import Tier
from tierstock.store.capacity_tables import capacity_batches, capacity_revisions, suppliers
from tierstock.store.rows import insert_new
from tierstock.store.tables import order_lines, stock_ledger, stock_tiers

_b = capacity_batches.c

# Hot path: the SKU's batches that back presale units, each row carrying the presale
# tier's quantity (one round trip; the caller already holds the tier row's lock).
_TIER_QUANTITY = (
    select(stock_tiers.c.quantity)
    .where(stock_tiers.c.sku_id == bindparam("sku_id"), stock_tiers.c.tier == Tier.PRESALE.value)
    .scalar_subquery()
)
LAYOUT = select(capacity_batches, _TIER_QUANTITY.label("tier_quantity")).where(
    _b.sku_id == bindparam("sku_id"),
    or_(_b.status == BatchStatus.CONFIRMED.value, _b.in_tier > 0),
)


def _batch(r: Row[Any]) -> CapacityBatch:
    return CapacityBatch(
        r.id,
        r.shop_id,
        r.sku_id,
        r.supplier_id,
        r.quantity,
        r.ready_on,
        BatchStatus(r.status),
        r.in_tier,
        r.created_at,
    )


class CapacityRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._layouts: dict[int, CapacityLayout | None] = {}

    # suppliers --------------------------------------------------------------------------
    def add_supplier(self, shop_id: int, name: str, at: datetime) -> Supplier:
        supplier_id = insert_new(
            self.conn,
            insert(suppliers)
            .values(shop_id=shop_id, name=name, created_at=at)
            .returning(suppliers.c.id),
        )
        if supplier_id is None:
            raise DuplicateError(f"supplier {name!r} already exists in this shop", field="name")
        return Supplier(supplier_id, shop_id, name, at)

    def suppliers(self, shop_id: int) -> list[Supplier]:
        rows = self.conn.execute(
            select(suppliers).where(suppliers.c.shop_id == shop_id).order_by(suppliers.c.id)
        )
        return [Supplier(r.id, r.shop_id, r.name, r.created_at) for r in rows]

    def get_supplier(self, shop_id: int, supplier_id: int) -> Supplier | None:
        r = self.conn.execute(
            select(suppliers).where(suppliers.c.id == supplier_id, suppliers.c.shop_id == shop_id)
        ).first()
        return Supplier(r.id, r.shop_id, r.name, r.created_at) if r else None

    # batches ----------------------------------------------------------------------------
    def add_batch(
        self,
        shop_id: int,
        sku_id: int,
        supplier_id: int,
        quantity: int,
        ready_on: date,
        at: datetime,
    ) -> CapacityBatch:
        batch_id = self.conn.execute(
            insert(capacity_batches)
            .values(
                shop_id=shop_id,
                sku_id=sku_id,
                supplier_id=supplier_id,
                quantity=quantity,
                ready_on=ready_on,
                status=BatchStatus.PROPOSED.value,
                in_tier=0,
                created_at=at,
            )
            .returning(_b.id)
        ).scalar_one()
        return CapacityBatch(
            batch_id, shop_id, sku_id, supplier_id, quantity, ready_on, BatchStatus.PROPOSED, 0, at
        )

    def get_batch(
        self, shop_id: int, batch_id: int, supplier_id: int | None = None
    ) -> CapacityBatch | None:
        """The batch, scoped to the shop and (for a supplier's key) to its supplier."""
        query = select(capacity_batches).where(_b.id == batch_id, _b.shop_id == shop_id)
        if supplier_id is not None:
            query = query.where(_b.supplier_id == supplier_id)
        row = self.conn.execute(query).first()
        return _batch(row) if row else None

    def batches_of_sku(self, sku_id: int) -> list[CapacityBatch]:
        rows = self.conn.execute(
            select(capacity_batches).where(_b.sku_id == sku_id).order_by(_b.ready_on, _b.id)
        )
        return [_batch(r) for r in rows]

    def batches_of_supplier(self, shop_id: int, supplier_id: int) -> list[CapacityBatch]:
        rows = self.conn.execute(
            select(capacity_batches)
            .where(_b.shop_id == shop_id, _b.supplier_id == supplier_id)
            .order_by(_b.sku_id, _b.ready_on, _b.id)
        )
        return [_batch(r) for r in rows]

    def save_batch(self, batch: CapacityBatch) -> None:
        self.conn.execute(
            update(capacity_batches)
            .where(_b.id == batch.id)
            .values(
                quantity=batch.quantity,
                ready_on=batch.ready_on,
                status=batch.status.value,
                in_tier=batch.in_tier,
            )
        )
        self._layouts.pop(batch.sku_id, None)

    def move_quantity(self, sku_id: int, tier: Tier, delta: int) -> None:
        """Change a tier's quantity by ``delta``; the guard keeps it at or above ``sold``
        (the caller holds the row lock and has clamped ``delta`` already)."""
        t = stock_tiers.c
        result = self.conn.execute(
            update(stock_tiers)
            .where(t.sku_id == sku_id, t.tier == tier.value, t.quantity + delta >= t.sold)
            .values(quantity=t.quantity + delta)
        )
        if result.rowcount != 1:
            raise RuntimeError(f"tier {tier} of SKU {sku_id} cannot change by {delta}")

    # history ----------------------------------------------------------------------------
    def add_revision(self, shop_id: int, rev: Revision) -> None:
        self.conn.execute(
            insert(capacity_revisions).values(
                shop_id=shop_id,
                batch_id=rev.batch_id,
                action=rev.action.value,
                quantity=rev.quantity,
                ready_on=rev.ready_on,
                actor=rev.actor,
                note=rev.note,
                at=rev.at,
            )
        )

    def revisions(self, batch_ids: Iterable[int]) -> dict[int, list[Revision]]:
        rows = self.conn.execute(
            select(capacity_revisions)
            .where(capacity_revisions.c.batch_id.in_(sorted(set(batch_ids))))
            .order_by(capacity_revisions.c.id)
        )
        found: dict[int, list[Revision]] = {}
        for r in rows:
            found.setdefault(r.batch_id, []).append(
                Revision(
                    r.batch_id, BatchAction(r.action), r.quantity, r.ready_on, r.actor, r.note, r.at
                )
            )
        return found

    # the hot path -----------------------------------------------------------------------
    def layout(self, sku_id: int) -> CapacityLayout | None:
        """The presale tier's unit order, or ``None`` if no batch backs this SKU's
        presale (it then sells as before). Read once per SKU and transaction."""
        if sku_id in self._layouts:
            return self._layouts[sku_id]
        rows = list(self.conn.execute(LAYOUT, {"sku_id": sku_id}))
        found = layout_of(rows[0].tier_quantity, (_batch(r) for r in rows)) if rows else None
        self._layouts[sku_id] = found
        return found

    # risk and pace ----------------------------------------------------------------------
    def paid_presale_lines(self, sku_id: int) -> list[PaidLine]:
        c = order_lines.c
        rows = self.conn.execute(
            select(
                c.order_id, c.line_no, c.quantity, c.tier_sold_after, c.ship_by, c.unit_price_fen
            )
            .where(
                c.sku_id == sku_id, c.tier == Tier.PRESALE.value, c.status == LineStatus.PAID.value
            )
            .order_by(c.tier_sold_after, c.id)
        )
        return [
            PaidLine(
                r.order_id,
                r.line_no,
                r.quantity,
                r.tier_sold_after,
                r.ship_by,
                r.quantity * r.unit_price_fen,
            )
            for r in rows
        ]

    def presale_units_sold_since(self, sku_id: int, since: datetime) -> int:
        """Presale units sold (paid) since ``since``, cancelled ones included: the pace
        is what buyers asked for."""
        c = stock_ledger.c
        total = self.conn.execute(
            select(func.coalesce(func.sum(c.sold_delta), 0)).where(
                c.sku_id == sku_id,
                c.tier == Tier.PRESALE.value,
                c.kind == LedgerKind.SALE.value,
                c.created_at >= since,
            )
        ).scalar_one()
        return int(total)
