"""What the Redis front needs before it can sell: order ids reserved from the database
and leases of tier units (redis_front/front.py explains the design).

Both are taken ahead in the background when they run low, so buyers rarely wait for a
transaction; leases of one tier are taken under a lock every process shares, so they
reach the queue in the order of their units and each continues the one before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.sales_forms import Tier
from tierstock.services.placing.redis_front import lua
from tierstock.services.placing.redis_front.leases import release_outstanding

if TYPE_CHECKING:
    from tierstock.services.placing.redis_front.front import ReservationFront

log = logging.getLogger("tierstock.front")

DRY_SECONDS = 1.0  # how long a tier the database had nothing to lease stays "dry"
IDS_BLOCK = 2_000
LEASE_LOCK_SECONDS = 10.0  # a process that dies holding the lease lock frees it then


class FrontSupply:
    """Order ids and leases for one reservation front (front.py)."""

    def __init__(self, front: ReservationFront) -> None:
        self.front = front
        self._add_lease = front.redis.register_script(lua.ADD_LEASE)
        self._ids_lock = threading.Lock()
        self._lease_locks: dict[tuple[int, Tier], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._background = ThreadPoolExecutor(2, thread_name_prefix="tierstock-lease")
        self._pending: set[Future[None]] = set()

    def refill_ids(self) -> None:
        with self._ids_lock:
            if self.front.redis.llen(self.front.key("ids")) >= IDS_BLOCK // 4:
                return  # another thread refilled while we waited
            with self.front.db.uow() as uow:
                ids = uow.front.next_order_ids(IDS_BLOCK)
                uow.commit()
            self.front.redis.rpush(self.front.key("ids"), *ids)

    def restock_soon(
        self,
        shop_id: int,
        sku_id: int,
        tier: Tier,
        then: Tier | None,
        left: int,
        queued: int,
        ids: int,
    ) -> None:
        """Lease the next run (and reserve order ids) in the background before they run
        out, so buyers rarely wait for a lease's transaction; when the tier has nothing
        left to lease, lease the next tier of the form (``then``) instead."""
        if left < self.front.lease_units // 2 and not queued:
            lock = self._lease_lock(sku_id, tier)
            if not lock.locked():
                self.ahead(self.lease, shop_id, sku_id, tier, 1, then)
        if ids < IDS_BLOCK // 4 and not self._ids_lock.locked():
            self.ahead(self.refill_ids)

    @staticmethod
    def _quietly(fn: Callable[..., object], *args: object) -> None:
        try:
            fn(*args)
        except Exception:  # a buyer will lease on its own path and see the error there
            log.warning("leasing ahead failed", exc_info=True)

    def lease(
        self, shop_id: int, sku_id: int, tier: Tier, at_least: int = 1, then: Tier | None = None
    ) -> int:
        """Lease ``lease_units`` of the tier to the front (``at_least`` for a larger
        line), or what is left; 0 marks the tier dry for ``DRY_SECONDS``. If the tier
        is (now) dry, lease ``then`` — the form's next tier — too.

        Leases of one tier are taken under a Redis lock shared by every process, so they
        reach the queue in the order of their units and each continues the one before
        (a line can then span them, redis_front/lua.py)."""
        run, _leases, queued, dry = self.front.tier_keys(sku_id, tier)
        enough = max(at_least, self.front.lease_units // 2)
        if self._stocked(run, queued, enough):
            return 0  # leased meanwhile: no need to queue on the locks
        with (
            self._lease_lock(sku_id, tier),
            self.front.redis.lock(
                self.front.key(f"lease-lock:{sku_id}:{tier}"),
                timeout=LEASE_LOCK_SECONDS,
                sleep=0.002,
                blocking_timeout=LEASE_LOCK_SECONDS,
            ),
        ):
            if self._stocked(run, queued, enough):
                return 0  # another thread or process leased while we waited
            units = (
                0
                if self.front.redis.exists(dry)
                else self._lease_now(shop_id, sku_id, tier, at_least, queued, dry)
            )
        if then is not None and self.front.redis.exists(dry):
            self.lease(shop_id, sku_id, then, at_least)
        return units

    def _stocked(self, run: str, queued: str, enough: int) -> bool:
        """A lease is waiting, or the run being sold still holds ``enough`` units."""
        pipe = self.front.redis.pipeline(transaction=False)
        pipe.llen(queued)
        pipe.hmget(run, "next", "last")
        waiting, (nxt, last) = pipe.execute()
        return bool(waiting) or (nxt is not None and int(last) - int(nxt) + 1 >= enough)

    def _lease_now(
        self, shop_id: int, sku_id: int, tier: Tier, at_least: int, queued: str, dry: str
    ) -> int:
        with self.front.db.uow() as uow:
            held = uow.stock.tiers([sku_id]).get(sku_id, {}).get(tier)
            units = min(max(self.front.lease_units, at_least), held.available if held else 0)
            sold_after = uow.stock.take(sku_id, tier, units) if units else None
            if sold_after is None:
                uow.commit()
                self.front.redis.set(dry, "1", px=int(DRY_SECONDS * 1000))
                return 0
            now = uow.now()
            first = sold_after - units + 1
            lease_id = uow.front.add_lease(shop_id, sku_id, tier, first, units, now)
            uow.stock.record(
                [
                    LedgerEntry(
                        shop_id,
                        sku_id,
                        tier,
                        LedgerKind.LEASE,
                        0,
                        units,
                        "front",
                        f"leased to the Redis front ({lease_id})",
                        now,
                    )
                ]
            )
            uow.commit()
        if not self._add_lease(
            keys=[self.front.key("off"), queued], args=[f"{lease_id}:{first}:{sold_after}"]
        ):
            self.give_back_lease(lease_id)  # switched off meanwhile
        elif held is not None and units == held.available:
            self.front.redis.set(dry, "1", px=int(DRY_SECONDS * 1000))
        return units

    def _lease_lock(self, sku_id: int, tier: Tier) -> threading.Lock:
        with self._locks_lock:
            return self._lease_locks.setdefault((sku_id, tier), threading.Lock())

    def give_back_lease(self, lease_id: int) -> int:
        """Return a lease Redis never queued (the front was off) to its tier."""
        with self.front.db.uow() as uow:
            given = release_outstanding(uow, lease_id)
            uow.commit()
        return given

    def wait_for_background(self) -> None:
        """Let leases and id blocks taken ahead finish (tests, and before a drain)."""
        with self._locks_lock:
            pending = list(self._pending)
        futures.wait(pending)

    def ahead(self, fn: Callable[..., object], *args: object) -> None:
        future = self._background.submit(self._quietly, fn, *args)
        with self._locks_lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._locks_lock:
            self._pending.discard(future)
