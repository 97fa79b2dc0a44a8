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
from datetime import timedelta

from tierstock.domain.channels import Channel, Link, QueuedPush
from tierstock.platforms.base import PlatformError, RateLimitedError, SkuRef, UnavailableError
from tierstock.policies import load_pack
from tierstock.services.channels.clients import Clients
from tierstock.services.channels.quotas import figures
from tierstock.services.channels.setup import queue_skus
from tierstock.services.placing.path import Database

FEED = "ledger"
OVERLAP_ENTRIES = 5_000
FEED_BATCH = 50_000
BACKOFF = (1.0, 2.0, 5.0, 15.0, 60.0, 300.0)  # seconds, by attempt


def queue_changes(db: Database) -> int:
    """Queue the links of every SKU whose stock changed since the last call."""
    with db.uow() as uow:
        mark = uow.channels.mark(FEED)
        skus, last = uow.channels.skus_changed_after(max(mark - OVERLAP_ENTRIES, 0), FEED_BATCH)
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
        self, queued: QueuedPush, channel: Channel, pack: str, link: Link, wanted: int
    ) -> str | None:
        """Set one store's figure; ``None`` if no call was needed, ``""`` when pushed,
        else what went wrong (the link stays queued with its backoff)."""
        if link.pushed_figure == wanted and link.seen_figure == wanted:
            with self.db.uow() as uow:
                uow.channels.done([queued])
                uow.commit()
            return None
        try:
            self._limit(channel, pack).wait()
            self.clients.get(channel).set_stock(
                SkuRef(link.platform_item_id, link.platform_sku_id), wanted
            )
        except PlatformError as exc:
            self._later(queued, exc)
            return f"{channel.name}: {exc}"
        with self.db.uow() as uow:
            uow.channels.record_push(link.id, wanted, uow.now())
            uow.channels.done([queued])
            uow.commit()
        return ""

    def _later(self, queued: QueuedPush, exc: PlatformError) -> None:
        wait = BACKOFF[min(queued.attempts, len(BACKOFF) - 1)]
        if isinstance(exc, RateLimitedError) and exc.retry_after:
            wait = max(wait, exc.retry_after)
        elif not isinstance(exc, RateLimitedError | UnavailableError):
            wait = BACKOFF[-1]  # refused or unauthorised: a person must look
        with self.db.uow() as uow:
            due_at = self.db.clock() + timedelta(seconds=wait)
            uow.channels.retry_later(queued.link_id, due_at, str(exc))
            uow.commit()
