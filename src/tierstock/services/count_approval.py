"""Approving a stock count (库存盘点审核) — docs/rules.md §4.

Approval (owner or warehouse) adjusts only the SKUs that were counted, in one
transaction: ``adjustment`` ledger entries bring system stock to counted stock, spot
stock never drops below what is already promised (such SKUs are flagged with the order
lines affected), and every change is published to the outbox for the people selling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tierstock.domain.counts import (
    CountClosedError,
    PromisedLine,
    SpotAdjustment,
    StockCount,
    ensure_may_approve,
    sku_variances,
)
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.sales_forms import Tier
from tierstock.services import audit
from tierstock.services.counts import current_lines, ensure_open, require_count
from tierstock.store.uow import UnitOfWork


@dataclass(frozen=True)
class ApproveCount:
    shop_id: int
    count_id: int
    role: str
    actor: str = "system"
    reason: str = ""


@dataclass(frozen=True)
class AppliedAdjustment:
    """What approval did to one SKU; ``affected`` lists the open spot lines when the
    shelf now holds fewer units than are promised (``shortfall`` > 0)."""

    sku_id: int
    sku_code: str
    counted: int
    system_on_hand: int
    counted_at: datetime
    spot: SpotAdjustment
    affected: tuple[PromisedLine, ...] = ()

    @property
    def variance(self) -> int:
        return self.spot.variance


@dataclass(frozen=True)
class CountApproved:
    count: StockCount
    adjustments: tuple[AppliedAdjustment, ...]
    events: int

    @property
    def flagged(self) -> tuple[AppliedAdjustment, ...]:
        return tuple(a for a in self.adjustments if a.spot.shortfall)


def approve_count(cmd: ApproveCount, uow: UnitOfWork) -> CountApproved:
    """Make system stock equal counted stock, in one transaction (docs/rules.md §4).

    For each counted SKU off by ``variance`` (counted − on-hand when counted), in SKU-id
    order so two writers never deadlock: lock its spot tier, set quantity to
    max(sold, quantity + variance) in one conditional UPDATE, write an ``adjustment``
    ledger entry, and publish ``stock.adjusted``. Units sold or shipped since counting
    stay as they are. A SKU left with fewer units than promised is flagged at once
    (``stock.short_of_promises``) with the open spot lines at risk.
    """
    ensure_may_approve(cmd.role)
    with uow:
        uow.counts.lock_shop(cmd.shop_id)
        count = require_count(uow, cmd.shop_id, cmd.count_id, lock=True)
        ensure_open(count)
        now = uow.now()
        reason = cmd.reason.strip()[:300] or "stock count approved"
        applied = []
        for v in sku_variances(current_lines(uow, count)):
            if not v.variance:
                continue
            quantity, sold = uow.counts.lock_spot(v.sku_id)
            spot = SpotAdjustment(quantity, sold, v.variance)
            after, _ = uow.counts.adjust_spot(v.sku_id, v.variance)
            assert after == spot.quantity_after, "the spot tier moved under its lock"
            if spot.delta:
                uow.stock.record(
                    [
                        LedgerEntry.change(
                            LedgerKind.ADJUSTMENT,
                            cmd.shop_id,
                            v.sku_id,
                            Tier.SPOT,
                            spot.delta,
                            cmd.actor,
                            f"count #{count.id}: counted {v.counted}, system "
                            f"{v.system_on_hand} at {v.counted_at.isoformat()}; {reason}",
                            now,
                        )
                    ]
                )
            affected = (
                tuple(uow.counts.promised_spot_lines(cmd.shop_id, v.sku_id))
                if spot.shortfall
                else ()
            )
            applied.append(
                AppliedAdjustment(
                    v.sku_id, v.sku_code, v.counted, v.system_on_hand, v.counted_at, spot, affected
                )
            )
        if not uow.counts.approve(count.id, cmd.actor, now):
            raise CountClosedError(
                f"stock count {count.id} was approved meanwhile", field="count_id"
            )
        events = _events(count, applied, cmd.actor, now)
        uow.counts.publish(cmd.shop_id, events, now)
        audit.record(
            uow,
            cmd.shop_id,
            cmd.actor,
            "count.approve",
            "stock_count",
            count.id,
            {"adjusted": len(applied), "flagged": sum(1 for a in applied if a.spot.shortfall)},
            reason,
        )
        approved = require_count(uow, cmd.shop_id, count.id)
        uow.commit()
    return CountApproved(approved, tuple(applied), len(events))


def _line_payload(p: PromisedLine) -> dict[str, Any]:
    return {
        "order_id": p.order_id,
        "line_no": p.line_no,
        "quantity": p.quantity,
        "paid_at": p.paid_at.isoformat(),
        "ship_by": p.ship_by.isoformat(),
    }


def _events(
    count: StockCount, applied: Sequence[AppliedAdjustment], actor: str, now: datetime
) -> list[tuple[str, dict[str, Any]]]:
    """The outbox rows of an approval: one per changed SKU, one per SKU short of its
    promises, and one for the count itself."""
    events: list[tuple[str, dict[str, Any]]] = []
    for a in applied:
        base = {
            "count_id": count.id,
            "sku_id": a.sku_id,
            "sku_code": a.sku_code,
            "tier": Tier.SPOT.value,
        }
        events.append(
            (
                "stock.adjusted",
                {
                    **base,
                    "counted": a.counted,
                    "system_on_hand": a.system_on_hand,
                    "counted_at": a.counted_at.isoformat(),
                    "variance": a.variance,
                    "quantity_delta": a.spot.delta,
                    "quantity": a.spot.quantity_after,
                    "sold": a.spot.sold,
                    "available": a.spot.quantity_after - a.spot.sold,
                    "shortfall": a.spot.shortfall,
                },
            )
        )
        if a.spot.shortfall:
            events.append(
                (
                    "stock.short_of_promises",
                    {
                        **base,
                        "shortfall": a.spot.shortfall,
                        "affected_lines": [_line_payload(p) for p in a.affected],
                        "affected_orders": sorted({p.order_id for p in a.affected}),
                    },
                )
            )
    events.append(
        (
            "count.approved",
            {
                "count_id": count.id,
                "warehouse": count.warehouse,
                "approved_by": actor,
                "approved_at": now.isoformat(),
                "skus_adjusted": len(applied),
                "skus_short": sum(1 for a in applied if a.spot.shortfall),
            },
        )
    )
    return events
