"""Stock ledger entries: the immutable history every stock figure is derived from.

docs/rules.md §3: every change of stock is a ledger entry with who, when and why. ``quantity``
changes when units become sellable or stop being so (receipt, set stock, adjustment);
``sold`` changes when units are promised to a paid line or given back (sale, cancel).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tierstock.domain.allocation import TierStock
from tierstock.domain.sales_forms import Tier


class LedgerKind(StrEnum):
    RECEIPT = "receipt"
    SET_STOCK = "set_stock"
    SALE = "sale"
    CANCEL = "cancel"
    ADJUSTMENT = "adjustment"
    CAPACITY = "capacity"  # supplier capacity confirmed, revised, declined or received
    # units handed to (+) or back from (−) the Redis front (services/placing/redis_front/)
    LEASE = "lease"


@dataclass(frozen=True)
class LedgerEntry:
    shop_id: int
    sku_id: int
    tier: Tier
    kind: LedgerKind
    quantity_delta: int
    sold_delta: int
    actor: str
    reason: str
    created_at: datetime
    order_id: int | None = None
    line_no: int | None = None
    # the stored row's id, once read back (entries being written have none yet)
    id: int | None = field(default=None, compare=False)

    @classmethod
    def change(
        cls,
        kind: LedgerKind,
        shop_id: int,
        sku_id: int,
        tier: Tier,
        quantity_delta: int,
        actor: str,
        reason: str,
        at: datetime,
    ) -> LedgerEntry:
        """Units made sellable or taken off sale (receipt, set stock, adjustment,
        capacity): ``quantity`` moves, ``sold`` stays, no order line is involved."""
        return cls(shop_id, sku_id, tier, kind, quantity_delta, 0, actor, reason, at)


@dataclass(frozen=True)
class LedgerMismatch:
    """A tier whose stored figures differ from the sums of its ledger."""

    sku_id: int
    sku_code: str
    tier: Tier
    stored: TierStock
    from_ledger: TierStock
    sold_in_open_lines: int

    def describe(self) -> str:
        return (
            f"SKU {self.sku_code} (id {self.sku_id}) {self.tier}: stored quantity "
            f"{self.stored.quantity} sold {self.stored.sold}, ledger says quantity "
            f"{self.from_ledger.quantity} sold {self.from_ledger.sold}, paid lines hold "
            f"{self.sold_in_open_lines}"
        )
