"""Proposing capacity batches and acting on them (confirm, revise, decline, receive) —
docs/rules.md §5. See ``services/capacity.py`` for the locking and ledger rules every action
follows: one transaction that locks the SKU's presale tier row first, then writes the
batch, a revision row, an audit row and, when sellable capacity changes, the tier row
and its ``capacity`` ledger entry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from zoneinfo import ZoneInfo

from tierstock.domain.allocation import TierStock
from tierstock.domain.capacity import (
    AtRiskLine,
    BatchAction,
    BatchStateError,
    BatchStatus,
    CapacityBatch,
    Revision,
    check_plan,
    layout_of,
)
from tierstock.domain.errors import InvalidValueError, NotFoundError
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.policy import PolicyPack
from tierstock.domain.sales_forms import Tier
from tierstock.services import audit
from tierstock.services.capacity import risk_lines
from tierstock.services.catalogue import require_sku, shop_policy
from tierstock.store.uow import UnitOfWork


# proposing --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProposeCapacity:
    """The merchant records what a supplier will deliver and by when (docs/rules.md §5)."""

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
            raise InvalidValueError(
                f"SKU {sku.code} sells spot only; capacity plans are for presale and tiered SKUs",
                field="sku_id",
            )
        if uow.capacity.get_supplier(cmd.shop_id, cmd.supplier_id) is None:
            raise NotFoundError(f"no supplier {cmd.supplier_id} in this shop", field="supplier_id")
        today = _today(uow, shop_policy(uow, cmd.shop_id))
        for quantity, ready_on in cmd.plans:
            check_plan(quantity, ready_on, today)
        now = uow.now()
        made = [
            uow.capacity.add_batch(cmd.shop_id, sku.id, cmd.supplier_id, q, day, now)
            for q, day in cmd.plans
        ]
        for batch in made:
            _history(uow, batch, BatchAction.PROPOSED, cmd.actor, cmd.note)
        uow.commit()
    return made


def _history(
    uow: UnitOfWork, batch: CapacityBatch, action: BatchAction, actor: str, note: str
) -> None:
    """The revision row and the audit row every action writes."""
    uow.capacity.add_revision(
        batch.shop_id,
        Revision(batch.id, action, batch.quantity, batch.ready_on, actor, note, uow.now()),
    )
    audit.record(
        uow,
        batch.shop_id,
        actor,
        f"capacity.{action.value}",
        "capacity_batch",
        batch.id,
        {
            "sku_id": batch.sku_id,
            "supplier_id": batch.supplier_id,
            "quantity": batch.quantity,
            "ready_on": batch.ready_on.isoformat(),
            "status": batch.status.value,
            "in_tier": batch.in_tier,
        },
        note,
    )


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
            raise BatchStateError(
                f"batch {batch.id} is {batch.status.value}; it cannot be {cmd.action.value}",
                field="batch_id",
            )
        after = _apply(cmd, batch, tier, uow, policy)
        moved = _settle(uow, batch, after, tier, cmd.actor, cmd.note)
        settled = uow.capacity.get_batch(cmd.shop_id, batch.id)
        assert settled is not None
        _history(uow, settled, cmd.action, cmd.actor, cmd.note)
        risk = risk_lines(uow, settled.sku_id, policy)
        uow.commit()
    return BatchChanged(settled, moved, tuple(risk))


def _apply(
    cmd: BatchCommand, batch: CapacityBatch, tier: TierStock, uow: UnitOfWork, policy: PolicyPack
) -> CapacityBatch:
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


def _settle(
    uow: UnitOfWork,
    before: CapacityBatch,
    after: CapacityBatch,
    tier: TierStock,
    actor: str,
    note: str,
) -> int:
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
    moved = -delta if after.status is BatchStatus.RECEIVED else 0
    now = uow.now()
    entries = []
    for into, units, why in (
        (Tier.PRESALE, delta, _why(after, delta, note)),
        (Tier.SPOT, max(moved, 0), f"batch {after.id} received: unpromised units on hand"),
    ):
        if units:
            uow.capacity.move_quantity(after.sku_id, into, units)
            entries.append(
                LedgerEntry.change(
                    LedgerKind.CAPACITY, after.shop_id, after.sku_id, into, units, actor, why, now
                )
            )
    uow.stock.record(entries)
    uow.capacity.save_batch(replace(after, in_tier=before.in_tier + delta))
    return moved


def _why(batch: CapacityBatch, delta: int, note: str) -> str:
    what = f"batch {batch.id} {batch.status.value} ({batch.quantity} by "
    what += f"{batch.ready_on.isoformat()}): presale capacity {delta:+d}"
    return f"{what}; {note}"[:500] if note else what
