"""Supplier capacity (产能确认) use cases — SPEC §3, §5; rules in domain/capacity.py.

Every action on a batch is one transaction that locks the SKU's presale tier row first
(the order hot path locks it too, so a sale never reads a half-changed plan), writes the
batch, a revision row, an audit row and — when sellable capacity changes — the tier row
and its ``capacity`` ledger entry. Presale capacity shrinks only down to what is already
promised; the promises a change puts at risk come back with the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from tierstock.domain.allocation import TierStock
from tierstock.domain.capacity import (
    AtRiskLine,
    BatchAction,
    BatchStateError,
    BatchStatus,
    CapacityBatch,
    CapacityLayout,
    Pace,
    Revision,
    Supplier,
    at_risk,
    check_plan,
    is_late,
    layout_of,
    pace,
    presale_ship_by,
)
from tierstock.domain.catalogue import Sku
from tierstock.domain.errors import InvalidValueError, NotFoundError
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.policy import PolicyPack
from tierstock.domain.sales_forms import Tier
from tierstock.services import audit
from tierstock.services.catalogue import require_sku, shop_policy
from tierstock.store.uow import UnitOfWork

DEFAULT_PACE_HOURS = 6


# the order hot path -----------------------------------------------------------------------
def presale_promise(uow: UnitOfWork, sku: Sku, tier: Tier, quantity: int, sold_after: int,
                    paid_at: datetime, policy: PolicyPack,
                    field: str = "quantity") -> datetime | None:
    """The ship-by a presale line gets from the batch covering its last unit, or ``None``
    (spot lines, SKUs without confirmed batches: the caller keeps its own rule). One
    query per SKU and transaction, only for presale lines."""
    if tier is not Tier.PRESALE:
        return None
    layout = uow.capacity.layout(sku.id)
    if layout is None:
        return None
    return presale_ship_by(layout, sold_after, quantity, paid_at, sku.sales_form,
                           policy.capacity.handling_days, ZoneInfo(policy.display_timezone),
                           field=field)


# suppliers --------------------------------------------------------------------------------
def create_supplier(shop_id: int, name: str, actor: str, uow: UnitOfWork) -> Supplier:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidValueError("supplier name must be 1 to 200 characters", field="name")
    with uow:
        shop_policy(uow, shop_id)
        supplier = uow.capacity.add_supplier(shop_id, name, uow.now())
        audit.record(uow, shop_id, actor, "supplier.created", "supplier", supplier.id,
                     {"name": name})
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
        layouts[sku_id] = (layout_of(presale.quantity, uow.capacity.batches_of_sku(sku_id)),
                           presale.sold)
    now = uow.now()
    return [BatchView(b, layouts[b.sku_id][0].promised_in(b.id, layouts[b.sku_id][1]),
                      is_late(b, now, zone), tuple(history.get(b.id, ())))
            for b in batches]


def sku_capacity(shop_id: int, sku_id: int, uow: UnitOfWork) -> SkuCapacity:
    with uow:
        sku = require_sku(uow, shop_id, sku_id)
        zone = ZoneInfo(shop_policy(uow, shop_id).display_timezone)
        presale = uow.stock.tiers([sku_id])[sku_id][Tier.PRESALE]
        batches = uow.capacity.batches_of_sku(sku_id)
        unbatched = max(0, presale.quantity - sum(b.in_tier for b in batches))
        return SkuCapacity(sku, presale, unbatched, tuple(_views(uow, batches, zone)))


def supplier_batches(shop_id: int, supplier_id: int | None, uow: UnitOfWork) -> list[BatchView]:
    """A supplier's own batches, each with its SKU's sales pace (SPEC §5: the pace is
    shared with suppliers). A supplier key without a supplier sees none."""
    if supplier_id is None:
        return []
    with uow:
        zone = ZoneInfo(shop_policy(uow, shop_id).display_timezone)
        views = _views(uow, uow.capacity.batches_of_supplier(shop_id, supplier_id), zone)
        paces = {sku_id: _pace(uow, sku_id, DEFAULT_PACE_HOURS)
                 for sku_id in {v.batch.sku_id for v in views}}
        return [replace(v, pace=paces[v.batch.sku_id]) for v in views]


# proposing --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProposeCapacity:
    """The merchant records what a supplier will deliver and by when (SPEC §5)."""

    shop_id: int
    sku_id: int
    supplier_id: int
    plans: tuple[tuple[int, date], ...]  # (quantity, ready_on)
    actor: str = "system"
    note: str = ""


def _today(uow: UnitOfWork, policy: PolicyPack) -> date:
    return uow.now().astimezone(ZoneInfo(policy.display_timezone)).date()


def propose(cmd: ProposeCapacity, uow: UnitOfWork) -> list[CapacityBatch]:
    if not cmd.plans:
        raise InvalidValueError("propose at least one batch", field="batches")
    with uow:
        sku = require_sku(uow, cmd.shop_id, cmd.sku_id)
        if Tier.PRESALE not in sku.sales_form.tiers:
            raise InvalidValueError(f"SKU {sku.code} sells spot only; capacity plans are for "
                                    "presale and tiered SKUs", field="sku_id")
        if uow.capacity.get_supplier(cmd.shop_id, cmd.supplier_id) is None:
            raise NotFoundError(f"no supplier {cmd.supplier_id} in this shop",
                                field="supplier_id")
        today = _today(uow, shop_policy(uow, cmd.shop_id))
        for quantity, ready_on in cmd.plans:
            check_plan(quantity, ready_on, today)
        now = uow.now()
        made = [uow.capacity.add_batch(cmd.shop_id, sku.id, cmd.supplier_id, q, day, now)
                for q, day in cmd.plans]
        for batch in made:
            _history(uow, batch, BatchAction.PROPOSED, cmd.actor, cmd.note)
        uow.commit()
    return made


def _history(uow: UnitOfWork, batch: CapacityBatch, action: BatchAction, actor: str,
             note: str) -> None:
    """The revision row and the audit row every action writes."""
    uow.capacity.add_revision(batch.shop_id, Revision(
        batch.id, action, batch.quantity, batch.ready_on, actor, note, uow.now()))
    audit.record(uow, batch.shop_id, actor, f"capacity.{action.value}", "capacity_batch",
                 batch.id, {"sku_id": batch.sku_id, "supplier_id": batch.supplier_id,
                            "quantity": batch.quantity, "ready_on": batch.ready_on.isoformat(),
                            "status": batch.status.value, "in_tier": batch.in_tier}, note)


# confirming, revising, declining, receiving -----------------------------------------------
@dataclass(frozen=True)
class BatchCommand:
    """``supplier_id``: the caller's supplier (its own batches only), ``None`` for the
    merchant acting for an offline supplier."""

    shop_id: int
    batch_id: int
    action: BatchAction
    supplier_id: int | None = None
    quantity: int | None = None
    ready_on: date | None = None
    note: str = ""
    actor: str = "system"


@dataclass(frozen=True)
class BatchChanged:
    batch: CapacityBatch
    moved_to_spot: int  # receiving: the unpromised remainder now sellable as spot
    at_risk: tuple[AtRiskLine, ...]  # the SKU's presale promises now at risk


ALLOWED_FROM: dict[BatchAction, frozenset[BatchStatus]] = {
    BatchAction.CONFIRMED: frozenset({BatchStatus.PROPOSED}),
    BatchAction.REVISED: frozenset({BatchStatus.PROPOSED, BatchStatus.CONFIRMED}),
    BatchAction.DECLINED: frozenset({BatchStatus.PROPOSED, BatchStatus.CONFIRMED}),
    BatchAction.RECEIVED: frozenset({BatchStatus.CONFIRMED}),
}


def act(cmd: BatchCommand, uow: UnitOfWork) -> BatchChanged:
    """Apply one action (see the module docstring). A supplier's revision is its
    commitment: a revised batch is confirmed with the revised figures."""
    with uow:
        policy = shop_policy(uow, cmd.shop_id)
        found = uow.capacity.get_batch(cmd.shop_id, cmd.batch_id, cmd.supplier_id)
        if found is None:
            raise NotFoundError(f"no capacity batch {cmd.batch_id} here", field="batch_id")
        tier = uow.stock.lock_tier(found.sku_id, Tier.PRESALE)  # then the batch is stable
        batch = uow.capacity.get_batch(cmd.shop_id, cmd.batch_id)
        assert batch is not None
        if batch.status not in ALLOWED_FROM[cmd.action]:
            raise BatchStateError(f"batch {batch.id} is {batch.status.value}; it cannot be "
                                  f"{cmd.action.value}", field="batch_id")
        after = _apply(cmd, batch, tier, uow, policy)
        moved = _settle(uow, batch, after, tier, cmd.actor, cmd.note)
        settled = uow.capacity.get_batch(cmd.shop_id, batch.id)
        assert settled is not None
        _history(uow, settled, cmd.action, cmd.actor, cmd.note)
        risk = _risk_lines(uow, settled.sku_id, policy)
        uow.commit()
    return BatchChanged(settled, moved, tuple(risk))


def _apply(cmd: BatchCommand, batch: CapacityBatch, tier: TierStock, uow: UnitOfWork,
           policy: PolicyPack) -> CapacityBatch:
    """The batch as the action leaves it, before the tier follows."""
    if cmd.action is BatchAction.CONFIRMED:
        return replace(batch, status=BatchStatus.CONFIRMED)
    if cmd.action is BatchAction.DECLINED:
        return replace(batch, status=BatchStatus.DECLINED)
    if cmd.action is BatchAction.RECEIVED:
        return replace(batch, status=BatchStatus.RECEIVED)
    quantity = batch.quantity if cmd.quantity is None else cmd.quantity
    ready_on = batch.ready_on if cmd.ready_on is None else cmd.ready_on
    check_plan(quantity, ready_on, _today(uow, policy))
    return replace(batch, quantity=quantity, ready_on=ready_on, status=BatchStatus.CONFIRMED)


def _settle(uow: UnitOfWork, before: CapacityBatch, after: CapacityBatch, tier: TierStock,
            actor: str, note: str) -> int:
    """Bring the presale tier in line with the batch; returns units moved to spot.

    The tier gains or loses ``target − in_tier`` units, but never drops below ``sold``:
    what is promised stays promised, and the shortfall shows as at-risk lines. A received
    batch keeps its promised units in the presale tier and gives the rest to spot.
    """
    target = after.target_in_tier()
    if after.status is BatchStatus.RECEIVED:  # the layout still has it confirmed
        layout = layout_of(tier.quantity, uow.capacity.batches_of_sku(after.sku_id))
        target = layout.promised_in(after.id, tier.sold)
    delta = max(target - before.in_tier, tier.sold - tier.quantity)
    now = uow.now()
    entries = []
    if delta:
        uow.capacity.move_quantity(after.sku_id, Tier.PRESALE, delta)
        entries.append(LedgerEntry(after.shop_id, after.sku_id, Tier.PRESALE,
                                   LedgerKind.CAPACITY, delta, 0, actor,
                                   _why(after, delta, note), now))
    moved = -delta if after.status is BatchStatus.RECEIVED else 0
    if moved > 0:
        uow.capacity.move_quantity(after.sku_id, Tier.SPOT, moved)
        entries.append(LedgerEntry(after.shop_id, after.sku_id, Tier.SPOT,
                                   LedgerKind.CAPACITY, moved, 0, actor,
                                   f"batch {after.id} received: unpromised units on hand",
                                   now))
    uow.stock.record(entries)
    uow.capacity.save_batch(replace(after, in_tier=before.in_tier + delta))
    return moved


def _why(batch: CapacityBatch, delta: int, note: str) -> str:
    what = f"batch {batch.id} {batch.status.value} ({batch.quantity} by "
    what += f"{batch.ready_on.isoformat()}): presale capacity {delta:+d}"
    return f"{what}; {note}"[:500] if note else what


# at risk and pace -------------------------------------------------------------------------
def _risk_lines(uow: UnitOfWork, sku_id: int, policy: PolicyPack) -> list[AtRiskLine]:
    layout = uow.capacity.layout(sku_id)
    if layout is None:
        return []
    return at_risk(uow.capacity.paid_presale_lines(sku_id), layout, uow.now(),
                   policy.capacity.handling_days, ZoneInfo(policy.display_timezone),
                   policy.compensation)


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
    return any(cur.action is BatchAction.REVISED
               and (cur.quantity < prev.quantity or cur.ready_on > prev.ready_on)
               for prev, cur in pairwise(history))


def _pace(uow: UnitOfWork, sku_id: int, hours: int) -> Pace:
    """Presale units sold over the last ``hours`` and when the confirmed (and
    unbatched) capacity not yet promised runs out at that pace."""
    now = uow.now()
    presale = uow.stock.tiers([sku_id])[sku_id][Tier.PRESALE]
    layout = layout_of(presale.quantity, uow.capacity.batches_of_sku(sku_id))
    sold = uow.capacity.presale_units_sold_since(sku_id, now - timedelta(hours=hours))
    return pace(sold, hours, layout.covered - presale.sold, now)


def capacity_risk(shop_id: int, sku_id: int, uow: UnitOfWork,
                  hours: int = DEFAULT_PACE_HOURS) -> CapacityRisk:
    """SPEC §5: promises a late or shrunk batch can no longer keep (with compensation
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
            tuple(b.id for b in batches if b.status is BatchStatus.CONFIRMED
                  and _revised_down(history.get(b.id, []))),
            tuple(_risk_lines(uow, sku_id, policy)),
            _pace(uow, sku_id, hours),
        )
