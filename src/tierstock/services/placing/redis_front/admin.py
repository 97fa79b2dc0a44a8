"""Operating the Redis front: its status, the drain at the end of a live session, and
the reconciliation ``tierstock verify`` runs (redis_front/front.py explains the design)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from tierstock.domain.leases import Lease
from tierstock.domain.sales_forms import Tier
from tierstock.services.placing.redis_front.fold import Folder
from tierstock.services.placing.redis_front.front import ReservationFront
from tierstock.services.placing.redis_front.leases import per_lease, release_outstanding

DRAIN_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class FrontStatus:
    on: bool
    open_leases: int
    leased_units: int  # outstanding: leased, not yet folded into lines or given back
    unfolded: int  # stream entries not yet written to the database


@dataclass(frozen=True)
class Drained:
    folded: int  # orders this drain wrote (other folders may have written the rest)
    released: int  # unsold leased units put on the stream to go back to their tiers
    recovered: int  # leased units Redis no longer knew of, given back from the database
    void: list[int]


@dataclass(frozen=True)
class LeaseMismatch:
    lease_id: int
    sku_id: int
    tier: Tier
    outstanding: int  # what the database says the front still holds
    in_redis: int  # what Redis holds: unsold units plus unfolded stream entries


def status(front: ReservationFront) -> FrontStatus:
    with front.db.uow(readonly=True) as uow:
        leases = uow.front.open_leases()
    return FrontStatus(
        front.is_on(),
        len(leases),
        sum(x.outstanding for x in leases),
        int(front.redis.xlen(front.key("stream"))),
    )


def _tier_keys(front: ReservationFront, leases: list[Lease]) -> list[str]:
    """The (run, run's leases, queued) keys of every SKU tier with leases."""
    keys: list[str] = []
    for sku_id, tier in sorted({(x.sku_id, x.tier) for x in leases}):
        run, run_leases, queued, _dry = front.tier_keys(sku_id, tier)
        keys += [run, run_leases, queued]
    return keys


def drain(front: ReservationFront, wait_seconds: float = DRAIN_WAIT_SECONDS) -> Drained:
    """Switch the front off, fold every reservation, give unsold leased units back.

    Other processes' folders may still hold entries they read; the drain waits up to
    ``wait_seconds`` for the stream to empty, taking over entries idle for a second.
    Only then are leases Redis no longer holds given back from the database side."""
    front.wait_for_background()
    with front.db.uow(readonly=True) as uow:
        leases = uow.front.open_leases()
    put_back = int(
        front.drain_script(
            keys=[
                front.key("off"),
                front.key("stranded"),
                front.key("stream"),
                *_tier_keys(front, leases),
            ]
        )
    )
    folder = Folder(front, name="drain")
    folded, void = 0, list[int]()
    deadline = time.monotonic() + wait_seconds
    while True:
        done = folder.fold_all(claim_idle_ms=1_000)
        folded, void = folded + done.sales, void + done.void
        if not front.redis.xlen(front.key("stream")) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    recovered = 0
    if not front.redis.xlen(front.key("stream")):
        with front.db.uow() as uow:
            for lease in uow.front.open_leases():
                recovered += release_outstanding(uow, lease.id)
            uow.commit()
    return Drained(folded, put_back, recovered, void)


def reconcile(front: ReservationFront, attempts: int = 3) -> list[LeaseMismatch]:
    """Per lease: units the database says the front holds == units Redis holds (unsold,
    stranded, or on the stream). Folding moves units from Redis to the database between
    the two reads, so a difference must persist over ``attempts`` to count."""
    mismatches: list[LeaseMismatch] = []
    for attempt in range(attempts):
        if attempt:
            time.sleep(0.2)
        with front.db.uow(readonly=True) as uow:
            before = uow.front.open_leases()
        held: dict[int, int] = defaultdict(int)
        for raw in front.snapshot_script(
            keys=[front.key("stranded"), front.key("stream"), *_tier_keys(front, before)]
        ):
            for lease_id, n in per_lease(raw.decode()).items():
                held[lease_id] += n
        with front.db.uow(readonly=True) as uow:
            known = {x.id: x for x in uow.front.open_leases()}
            known.update(uow.front.leases(set(held) - set(known)))
        mismatches = [
            LeaseMismatch(x.id, x.sku_id, x.tier, x.outstanding, held.get(x.id, 0))
            for x in known.values()
            if x.outstanding != held.get(x.id, 0)
        ]
        if not mismatches:
            return []
    return mismatches
