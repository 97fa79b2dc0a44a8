"""Stock out: every store shows its quota, pushed through a coalescing queue.

**What moves a quota.** Every stock change writes a ledger row in its own transaction,
so the ledger is the outbox of stock changes: :func:`queue_changes` reads the entries
after its mark and queues a push of every link of the SKUs they touch. Rule, safety
stock and live-lock changes queue their links in their own transaction (setup.py). The
mark is re-read with an overlap (``OVERLAP_ENTRIES``): an entry whose transaction
committed after a later one's is still seen; queueing twice costs nothing.

**Coalescing.** The queue holds one row per link, meaning "this figure may have
moved"; the figure is computed from the pool when the push is made, so a burst of a
thousand sales is one push carrying the latest figure, and a link whose store already
shows its quota needs no call at all. Each queueing bumps the row's generation; a push
removes the row only if no change queued it again meanwhile, so no change is lost.

**Order of pushes.** Links of a live session's SKUs go first, then the oldest. Each
store is called at most ``api.calls_per_second`` times a second (its pack), so a push
storm (a count approval touching 50,000 SKUs) drains within the platform's limit while
the live session's SKUs keep converging.

**Retries.** A push is an absolute figure: Kuaishou's API only changes stock by a delta,
so its client reads the platform's figure and changes it by the difference — after a
timeout or a 5xx the next attempt reads again, and a delta the platform applied before
failing is never applied twice. Failures back off exponentially (``BACKOFF``), a rate
limit waits what the platform said.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tierstock.domain.channels import Channel, Link, QueuedPush
from tierstock.platforms.base import (
    AuthError,
    PlatformClient,
    PlatformError,
    RateLimitedError,
    SkuRef,
    UnavailableError,
)
from tierstock.policies import load_pack
from tierstock.services.channels.clients import Clients
from tierstock.services.channels.quotas import figures
from tierstock.services.channels.setup import queue_skus
from tierstock.services.placing.path import Database

FEED = "ledger"
OVERLAP_ENTRIES = 5_000
FEED_BATCH = 50_000
BACKOFF = (1.0, 2.0, 5.0, 15.0, 60.0, 300.0)  # seconds, by attempt


def bring_to_quota(
    db: Database,
    client: PlatformClient,
    link: Link,
    quota: int,
    limiter: RateLimiter | None = None,
    *,
    all_recorded: bool = False,
) -> bool:
    """Read what the store shows and change it by the difference to its quota, less the
    units it sold that are not recorded yet (``Link.unrecorded_sales``) — a push must
    never hand back units a buyer took in the sync lag. A delta after a fresh read keeps
    a sale landing between the read and the change counted. ``all_recorded``: every
    order of the store is known to be recorded (a quiet store), so nothing is pending
    and the store is set to the quota itself, which also clears what an earlier call of
    unknown outcome left uncertain. Returns whether the figure changed."""
    ref = SkuRef(link.platform_item_id, link.platform_sku_id)
    if link.uncertain_since is not None and not all_recorded:
        all_recorded = _orders_read_past(db, link, link.uncertain_since)
    if limiter is not None:
        limiter.wait()
    shown = client.read_stock(ref)
    pending = 0 if all_recorded else link.unrecorded_sales(shown)
    target = max(0, quota - pending)
    if target != shown:
        if limiter is not None:
            limiter.wait()
        try:
            client.change_stock(ref, target - shown)
        except UnavailableError:
            # The change may or may not have landed, so the store's own sales since the
            # last push can no longer be told apart from it: the next push waits until
            # the store's orders are read past this moment and then sets the quota.
            with db.uow() as uow:
                uow.channels.mark_uncertain(link.id, uow.now())
                uow.commit()
            raise
    with db.uow() as uow:
        uow.channels.record_push(link.id, quota, target, uow.now(), link.ingested_units)
        uow.commit()
    return target != shown


class OrdersBehindError(UnavailableError):
    """A push waits for the store's orders to be read past an uncertain change."""


def _orders_read_past(db: Database, link: Link, moment: datetime) -> bool:
    with db.uow(readonly=True) as uow:
        cursor = uow.channels.cursor(link.channel_id)
    if cursor is None or cursor.window_end is not None or cursor.synced_until <= moment:
        raise OrdersBehindError(
            "waiting for the store's orders to be read past an uncertain change"
        )
    return True


def queue_changes(db: Database, overlap_entries: int = OVERLAP_ENTRIES) -> int:
    """Queue the links of every SKU whose stock changed since the last call (and in the
    last ``overlap_entries`` ledger entries before it: the worker re-reads those every
    few seconds, not on every pass, so an idle worker stays idle)."""
    with db.uow() as uow:
        mark = uow.channels.mark(FEED)
        skus, last = uow.channels.skus_changed_after(max(mark - overlap_entries, 0), FEED_BATCH)
        queued = queue_skus(uow, skus) if skus else 0
        if last > mark:
            uow.channels.set_mark(FEED, last)
        uow.commit()
    return queued


class RateLimiter:
    """At most ``per_second`` calls a second to one store (a token bucket of one second)."""

    def __init__(self, per_second: int) -> None:
        self.interval = 1.0 / max(per_second, 1)
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


@dataclass
class PushReport:
    pushed: int = 0  # calls that set a store's figure
    unchanged: int = 0  # the store already showed its quota: no call
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Relay:
    """Pushes due links, ``workers`` calls at a time, each store within its rate."""

    def __init__(self, db: Database, clients: Clients, workers: int = 8) -> None:
        self.db = db
        self.clients = clients
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="push")
        self._limits: dict[int, RateLimiter] = {}

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def push_due(self, limit: int = 500) -> PushReport:
        """Push up to ``limit`` due links (live sessions first); one batch."""
        with self.db.uow(readonly=True) as uow:
            due = uow.channels.due(self.db.clock(), limit)
            if not due:
                return PushReport()
            links = uow.channels.links_by_id(p.link_id for p in due)
            wanted = figures(uow, links.values())
            channels = {c.id: c for c in uow.channels.channels()}
            packs = {c.id: uow.channels.account(c.id)[0] for c in channels.values()}
        report = PushReport()
        jobs = [
            self.pool.submit(
                self._push,
                p,
                channels[p.channel_id],
                packs[p.channel_id],
                links[p.link_id],
                wanted[p.link_id],
            )
            for p in due
            if p.link_id in links
        ]
        for job in jobs:
            outcome = job.result()
            if outcome is None:
                report.unchanged += 1
            elif outcome == "":
                report.pushed += 1
            else:
                report.failed += 1
                report.errors.append(outcome)
        return report

    def _limit(self, channel: Channel, pack: str) -> RateLimiter:
        limiter = self._limits.get(channel.id)
        if limiter is None:
            limiter = self._limits[channel.id] = RateLimiter(load_pack(pack).api.calls_per_second)
        return limiter

    def _push(
        self, queued: QueuedPush, channel: Channel, pack: str, link: Link, quota: int
    ) -> str | None:
        """Bring one store to its quota; ``None`` if no change was needed, ``""`` when
        changed, else what went wrong (the link stays queued with its backoff)."""
        limiter = self._limit(channel, pack)
        try:
            changed = bring_to_quota(self.db, self.clients.get(channel), link, quota, limiter)
        except PlatformError as exc:
            self._later(queued, exc)
            return f"{channel.name}: {exc}"
        with self.db.uow() as uow:
            uow.channels.done([queued])
            uow.commit()
        return "" if changed else None

    def _later(self, queued: QueuedPush, exc: PlatformError) -> None:
        wait = BACKOFF[min(queued.attempts, len(BACKOFF) - 1)]
        if isinstance(exc, RateLimitedError) and exc.retry_after:
            wait = max(wait, exc.retry_after)
        elif isinstance(exc, AuthError):
            wait = BACKOFF[-1]  # the credentials were refused: a person must look
        with self.db.uow() as uow:
            due_at = self.db.clock() + timedelta(seconds=wait)
            uow.channels.retry_later(queued.link_id, due_at, str(exc))
            uow.commit()
