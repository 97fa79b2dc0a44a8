"""Supplier capacity (产能确认): suppliers, reading plans, promises at risk, pace, and
the presale promise of the order hot path — docs/rules.md §3, §5; rules in domain/capacity.py.
Proposing and acting on batches is in ``services/capacity_plans.py``.

Every action on a batch is one transaction that locks the SKU's presale tier row first
(the order hot path locks it too, so a sale never reads a half-changed plan), writes the
batch, a revision row, an audit row and — when sellable capacity changes — the tier row
and its ``capacity`` ledger entry. Presale capacity shrinks only down to what is already
promised; the promises a change puts at risk come back with the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from tierstock.domain.allocation import TierStock
from tierstock.domain.capacity import (
    AtRiskLine,
    BatchAction,
    BatchStatus,
    CapacityBatch,
    CapacityLayout,
    Pace,
    Revision,
    Supplier,
    at_risk,
    is_late,
    layout_of,
    pace,
    presale_ship_by,
)
from tierstock.domain.catalogue import Sku
from tierstock.domain.errors import InvalidValueError
from tierstock.domain.policy import PolicyPack
from tierstock.domain.sales_forms import Tier
from tierstock.services import audit
from tierstock.services.catalogue import require_sku, shop_policy
from tierstock.store.uow import UnitOfWork

DEFAULT_PACE_HOURS = 6


# the order hot path -----------------------------------------------------------------------
def presale_promise(
    uow: UnitOfWork,
    sku: Sku,
    tier: Tier,
    quantity: int,
    sold_after: int,
    paid_at: datetime,
    policy: PolicyPack,
    field: str = "quantity",
) -> datetime | None:
    """The ship-by a presale line gets from the batch covering its last unit, or ``None``
    (spot lines, SKUs without confirmed batches: the caller keeps its own rule). One
    query per SKU and transaction, only for presale lines."""
    if tier is not Tier.PRESALE:
        return None
    layout = uow.capacity.layout(sku.id)
    if layout is None:
        return None
    return presale_ship_by(
        layout,
        sold_after,
        quantity,
        paid_at,
        sku.sales_form,
        policy.capacity.handling_days,
        ZoneInfo(policy.display_timezone),
        field=field,
    )


# suppliers --------------------------------------------------------------------------------
def create_supplier(shop_id: int, name: str, actor: str, uow: UnitOfWork) -> Supplier:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidValueError("supplier name must be 1 to 200 characters", field="name")
    with uow:
        shop_policy(uow, shop_id)
        supplier = uow.capacity.add_supplier(shop_id, name, uow.now())
        audit.record(
            uow, shop_id, actor, "supplier.created", "supplier", supplier.id, {"name": name}
        )
        uow.commit()
    return supplier


def list_suppliers(shop_id: int, uow: UnitOfWork) -> list[Supplier]:
    with uow:
        return uow.capacity.suppliers(shop_id)


# reading plans ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchView:
    batch: CapacityBatch
    promised: int  # units of the batch already promised to paid lines
    late: bool
    history: tuple[Revision, ...]
    pace: Pace | None = None  # shared with the supplier: its SKU's presale pace


@dataclass(frozen=True)
class SkuCapacity:
    sku: Sku
    presale: TierStock
    unbatched: int
    batches: tuple[BatchView, ...]


def _views(uow: UnitOfWork, batches: list[CapacityBatch], zone: ZoneInfo) -> list[BatchView]:
    history = uow.capacity.revisions(b.id for b in batches)
    tiers = uow.stock.tiers({b.sku_id for b in batches})
    layouts: dict[int, tuple[CapacityLayout, int]] = {}
    for sku_id in {b.sku_id for b in batches}:
        presale = tiers[sku_id][Tier.PRESALE]
        layouts[sku_id] = (
            layout_of(presale.quantity, uow.capacity.batches_of_sku(sku_id)),
            presale.sold,
        )
    now = uow.now()
    return [
        BatchView(
            b,
            layouts[b.sku_id][0].promised_in(b.id, layouts[b.sku_id][1]),
            is_late(b, now, zone),
            tuple(history.get(b.id, ())),
        )
        for b in batches
    ]


def sku_capacity(shop_id: int, sku_id: int, uow: UnitOfWork) -> SkuCapacity:
    with uow:
        sku = require_sku(uow, shop_id, sku_id)
        zone = ZoneInfo(shop_policy(uow, shop_id).display_timezone)
        presale = uow.stock.tiers([sku_id])[sku_id][Tier.PRESALE]
        batches = uow.capacity.batches_of_sku(sku_id)
        unbatched = max(0, presale.quantity - sum(b.in_tier for b in batches))
        return SkuCapacity(sku, presale, unbatched, tuple(_views(uow, batches, zone)))


def supplier_batches(shop_id: int, supplier_id: int | None, uow: UnitOfWork) -> list[BatchView]:
    """A supplier's own batches, each with its SKU's sales pace (docs/rules.md §5: the pace is
    shared with suppliers). A supplier key without a supplier sees none."""
    if supplier_id is None:
        return []
    with uow:
        zone = ZoneInfo(shop_policy(uow, shop_id).display_timezone)
        views = _views(uow, uow.capacity.batches_of_supplier(shop_id, supplier_id), zone)
        paces = {
            sku_id: _pace(uow, sku_id, DEFAULT_PACE_HOURS)
            for sku_id in {v.batch.sku_id for v in views}
        }
        return [replace(v, pace=paces[v.batch.sku_id]) for v in views]


# at risk and pace -------------------------------------------------------------------------
def risk_lines(uow: UnitOfWork, sku_id: int, policy: PolicyPack) -> list[AtRiskLine]:
    layout = uow.capacity.layout(sku_id)
    if layout is None:
        return []
    return at_risk(
        uow.capacity.paid_presale_lines(sku_id),
        layout,
        uow.now(),
        policy.capacity.handling_days,
        ZoneInfo(policy.display_timezone),
        policy.compensation,
    )


@dataclass(frozen=True)
class CapacityRisk:
    sku_id: int
    late_batches: tuple[int, ...]
    revised_down: tuple[int, ...]  # confirmed batches revised to fewer units or later
    lines: tuple[AtRiskLine, ...]
    pace: Pace

    @property
    def exposure_fen(self) -> int:
        return sum(x.exposure_fen for x in self.lines)


def _revised_down(history: list[Revision]) -> bool:
    return any(
        cur.action is BatchAction.REVISED
        and (cur.quantity < prev.quantity or cur.ready_on > prev.ready_on)
        for prev, cur in pairwise(history)
    )


def _pace(uow: UnitOfWork, sku_id: int, hours: int) -> Pace:
    """Presale units sold over the last ``hours`` and when the confirmed (and
    unbatched) capacity not yet promised runs out at that pace."""
    now = uow.now()
    presale = uow.stock.tiers([sku_id])[sku_id][Tier.PRESALE]
    layout = layout_of(presale.quantity, uow.capacity.batches_of_sku(sku_id))
    sold = uow.capacity.presale_units_sold_since(sku_id, now - timedelta(hours=hours))
    return pace(sold, hours, layout.covered - presale.sold, now)


def capacity_risk(
    shop_id: int, sku_id: int, uow: UnitOfWork, hours: int = DEFAULT_PACE_HOURS
) -> CapacityRisk:
    """docs/rules.md §5: promises a late or shrunk batch can no longer keep (with compensation
    exposure), and when confirmed capacity runs out at the last ``hours``' pace."""
    if not 1 <= hours <= 24 * 90:
        raise InvalidValueError("hours must be 1 to 2160", field="hours")
    with uow:
        require_sku(uow, shop_id, sku_id)
        policy = shop_policy(uow, shop_id)
        zone = ZoneInfo(policy.display_timezone)
        now = uow.now()
        batches = uow.capacity.batches_of_sku(sku_id)
        history = uow.capacity.revisions(b.id for b in batches)
        return CapacityRisk(
            sku_id,
            tuple(b.id for b in batches if is_late(b, now, zone)),
            tuple(
                b.id
                for b in batches
                if b.status is BatchStatus.CONFIRMED and _revised_down(history.get(b.id, []))
            ),
            tuple(risk_lines(uow, sku_id, policy)),
            _pace(uow, sku_id, hours),
        )
