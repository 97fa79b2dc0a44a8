"""Stock tiers and the ledger. The hot path lives here: :meth:`StockRepository.take`.

Every stock change is one conditional UPDATE whose WHERE clause carries the rule, so
concurrent buyers never read-then-write in Python; the row's CHECK constraint refuses
an oversell even if a caller were wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

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
TAKE = (
    update(stock_tiers)
    .where(_THIS_TIER, _tier.sold + bindparam("qty") <= _tier.quantity)
    .values(sold=_tier.sold + bindparam("qty"))
    .returning(_tier.sold)
)
GIVE_BACK = (
    update(stock_tiers)
    .where(_THIS_TIER, _tier.sold >= bindparam("qty"))
    .values(sold=_tier.sold - bindparam("qty"))
)
INSERT_LEDGER = insert(stock_ledger)


def _ledger_row(e: LedgerEntry) -> dict[str, Any]:
    """Column values of a ledger entry (plain attribute reads: asdict deep-copies)."""
    # StrEnum members are str already; `.value` costs an enum descriptor call per row.
    return {"shop_id": e.shop_id, "sku_id": e.sku_id, "tier": e.tier,
            "kind": e.kind, "quantity_delta": e.quantity_delta,
            "sold_delta": e.sold_delta, "actor": e.actor, "reason": e.reason,
            "created_at": e.created_at, "order_id": e.order_id, "line_no": e.line_no}


class StockRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # the hot path ---------------------------------------------------------------------
    def take(self, sku_id: int, tier: Tier, quantity: int) -> int | None:
        """Promise ``quantity`` units of the tier if it holds them all.

        Returns the tier's ``sold`` after the change, or ``None`` if the tier is short.
        The row lock lasts from this UPDATE to the end of the (short) transaction.
        """
        sold: int | None = self.conn.execute(
            TAKE, {"b_sku_id": sku_id, "b_tier": tier, "qty": quantity}
        ).scalar_one_or_none()
        return sold

    def lock_tiers(self, sku_ids: Iterable[int]) -> dict[int, dict[Tier, TierStock]]:
        """Read the tiers of several SKUs under row locks, in id order (so two batches
        never deadlock). Used by batched allocation, which then writes one conditional
        UPDATE per tier for the whole batch."""
        rows = self.conn.execute(
            select(_tier.sku_id, _tier.tier, _tier.quantity, _tier.sold)
            .where(_tier.sku_id.in_(sorted(set(sku_ids))))
            .order_by(_tier.id)
            .with_for_update()
        )
        found: dict[int, dict[Tier, TierStock]] = {}
        for r in rows:
            tier = Tier(r.tier)
            found.setdefault(r.sku_id, {})[tier] = TierStock(tier, r.quantity, r.sold)
        return found

    def give_back(self, sku_id: int, tier: Tier, quantity: int) -> None:
        """Return cancelled units to the tier they came from."""
        result = self.conn.execute(
            GIVE_BACK, {"b_sku_id": sku_id, "b_tier": tier, "qty": quantity}
        )
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
        if entries:
            self.conn.execute(INSERT_LEDGER, [_ledger_row(e) for e in entries])

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
                shop_id=r.shop_id, sku_id=r.sku_id, tier=Tier(r.tier), kind=LedgerKind(r.kind),
                quantity_delta=r.quantity_delta, sold_delta=r.sold_delta, actor=r.actor,
                reason=r.reason, created_at=r.created_at, order_id=r.order_id,
                line_no=r.line_no,
            )
            for r in rows
        ]

    def audit_rows(self, shop_id: int | None) -> list[Any]:
        """Per tier: stored figures, ledger sums and units held by paid lines (the sums
        are restricted to the shop first, so checking one shop reads only its rows)."""
        def scoped(query: Any, table: Any) -> Any:
            return query if shop_id is None else query.where(table.c.shop_id == shop_id)

        ledger = scoped(
            select(
                stock_ledger.c.sku_id, stock_ledger.c.tier,
                func.sum(stock_ledger.c.quantity_delta).label("q"),
                func.sum(stock_ledger.c.sold_delta).label("s"),
            ),
            stock_ledger,
        ).group_by(stock_ledger.c.sku_id, stock_ledger.c.tier).subquery()
        held = scoped(
            select(order_lines.c.sku_id, order_lines.c.tier,
                   func.sum(order_lines.c.quantity).label("h"))
            .where(order_lines.c.status == LineStatus.PAID.value),
            order_lines,
        ).group_by(order_lines.c.sku_id, order_lines.c.tier).subquery()
        query = scoped(
            select(
                _tier.sku_id, skus.c.code, _tier.tier, _tier.quantity, _tier.sold,
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
