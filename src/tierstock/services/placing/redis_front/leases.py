"""Giving leased units back to their tiers — exactly once per key — for the fold, the
lease supply and the drain alike (front.py explains leases)."""

from __future__ import annotations

from collections import defaultdict

from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.store.uow import UnitOfWork


def per_lease(pairs: str) -> dict[int, int]:
    """``"12:3,13:2"`` (what a stream entry says it took or gives back) -> {12: 3, 13: 2}."""
    out: dict[int, int] = defaultdict(int)
    for pair in filter(None, pairs.split(",")):
        lease, units = pair.split(":")
        out[int(lease)] += int(units)
    return dict(out)


def release(uow: UnitOfWork, key: str, units_by_lease: dict[int, int]) -> int:
    """Give leased units back to their tiers, once per ``key``; the units given back
    (0 when ``key`` was applied before). Leases are locked in id order."""
    if not units_by_lease or not uow.front.claim_release(key, uow.now()):
        return 0
    ledger = []
    for lease_id, units in sorted(units_by_lease.items()):
        lease = uow.front.give_back(lease_id, units)
        uow.stock.give_back(lease.sku_id, lease.tier, units)
        ledger.append(
            LedgerEntry(
                lease.shop_id,
                lease.sku_id,
                lease.tier,
                LedgerKind.LEASE,
                0,
                -units,
                "front",
                f"lease {lease_id} given back",
                uow.now(),
            )
        )
    uow.stock.record(ledger)
    return sum(units_by_lease.values())


def release_outstanding(uow: UnitOfWork, lease_id: int) -> int:
    """Give back every unit of a lease Redis does not hold (a lease the front never
    queued, or the drain's sweep). Keyed by the lease's figures, so two callers that
    read the same figures give back once, and a later caller finds nothing left."""
    lease = uow.front.leases([lease_id]).get(lease_id)
    if lease is None or not lease.outstanding:
        return 0
    key = f"recover:{lease.id}:{lease.sold}:{lease.returned}"
    return release(uow, key, {lease.id: lease.outstanding})
