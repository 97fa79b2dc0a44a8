"""`tierstock verify`: recompute every stock figure from the ledger (docs/rules.md §3)."""

from __future__ import annotations

from tierstock.domain.allocation import TierStock
from tierstock.domain.ledger import LedgerMismatch
from tierstock.domain.sales_forms import Tier
from tierstock.services.shops import get_shop_in
from tierstock.store.uow import UnitOfWork


def verify_ledger(uow: UnitOfWork, shop_id: int | None = None) -> tuple[int, list[LedgerMismatch]]:
    """Return (tiers checked, mismatches). A tier is right when its quantity and sold
    equal the sums of its ledger deltas and its sold equals the units paid lines hold
    plus the units leased to the Redis front and not yet folded (services/placing/redis_front/).

    An unknown ``shop_id`` is refused (NotFoundError on ``shop_id``): checking no tiers
    of a shop that does not exist must not read as a passing check."""
    with uow:
        if shop_id is not None:
            get_shop_in(uow, shop_id)
        rows = uow.stock.audit_rows(shop_id)
        leased = uow.front.outstanding_by_tier(shop_id)
    bad = []
    for r in rows:
        tier = Tier(r.tier)
        stored = TierStock(tier, r.quantity, r.sold)
        derived = TierStock(tier, int(r.ledger_quantity), int(r.ledger_sold))
        held = int(r.held) + leased.get((r.sku_id, tier), 0)
        if stored != derived or r.sold != held:
            bad.append(LedgerMismatch(r.sku_id, r.code, tier, stored, derived, held))
    return len(rows), bad
