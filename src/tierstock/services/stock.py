"""Receive stock, set stock, read stock and its ledger — docs/rules.md §1, §3.

Each change writes its ledger entry in the same transaction as the tier row, so the
figures and their history can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from tierstock.domain.allocation import TierStock
from tierstock.domain.errors import InvalidValueError
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.sales_forms import Tier
from tierstock.services.catalogue import require_sku
from tierstock.store.uow import UnitOfWork


@dataclass(frozen=True)
class ReceiveStock:
    shop_id: int
    sku_id: int
    tier: Tier
    quantity: int
    actor: str = "system"
    reason: str = "goods received"


def receive_stock(cmd: ReceiveStock, uow: UnitOfWork) -> TierStock:
    """Add ``quantity`` sellable units to a tier (a receipt, never negative)."""
    if cmd.quantity <= 0:
        raise InvalidValueError("quantity received must be positive", field="quantity")
    with uow:
        require_sku(uow, cmd.shop_id, cmd.sku_id)
        after = uow.stock.add_quantity(cmd.sku_id, cmd.tier, cmd.quantity)
        uow.stock.record([_entry(cmd, LedgerKind.RECEIPT, cmd.quantity, uow)])
        uow.commit()
    return after


@dataclass(frozen=True)
class SetStock:
    """Make exactly ``available`` units of a tier sellable from now on (0 allowed)."""

    shop_id: int
    sku_id: int
    tier: Tier
    available: int
    actor: str = "system"
    reason: str = "stock set by merchant"


def set_stock(cmd: SetStock, uow: UnitOfWork) -> TierStock:
    """Set the *available* figure; units already promised to buyers stay promised.

    The tier row is locked for the read that gives the ledger its delta, so a burst of
    orders in between cannot make the entry wrong.
    """
    if cmd.available < 0:
        raise InvalidValueError("available stock must not be negative", field="available")
    with uow:
        require_sku(uow, cmd.shop_id, cmd.sku_id)
        before = uow.stock.lock_tier(cmd.sku_id, cmd.tier)
        quantity = before.sold + cmd.available
        delta = quantity - before.quantity
        if delta:
            uow.stock.set_quantity(cmd.sku_id, cmd.tier, quantity)
            uow.stock.record([_entry(cmd, LedgerKind.SET_STOCK, delta, uow)])
        uow.commit()
    return TierStock(cmd.tier, quantity, before.sold)


def _entry(
    cmd: ReceiveStock | SetStock, kind: LedgerKind, delta: int, uow: UnitOfWork
) -> LedgerEntry:
    """The ledger entry of a receipt or a set: by the command's actor, for its reason."""
    return LedgerEntry.change(
        kind, cmd.shop_id, cmd.sku_id, cmd.tier, delta, cmd.actor, cmd.reason, uow.now()
    )


def read_stock(shop_id: int, sku_id: int, uow: UnitOfWork) -> dict[Tier, TierStock]:
    with uow:
        require_sku(uow, shop_id, sku_id)
        return uow.stock.tiers([sku_id]).get(sku_id, {})


def read_ledger(
    shop_id: int, sku_id: int, uow: UnitOfWork, *, offset: int = 0, limit: int = 100
) -> list[LedgerEntry]:
    with uow:
        require_sku(uow, shop_id, sku_id)
        return uow.stock.ledger(shop_id, sku_id, offset=offset, limit=limit)
