"""The channel worker: one loop per database that keeps every store in step.

Each round: queue the links of SKUs whose stock moved (relay.queue_changes), push what
is due (live sessions first, each store within its rate), read each store's new orders
(orders_in). Every ``reconcile_every`` seconds it also repairs drift. Everything it
does is idempotent and its progress is in the database, so ``kill -9`` at any point
and a restart lose and double nothing (tests/integration/test_channels_crash.py).

Run it with ``tierstock channels sync --follow`` (one per database is enough; two
would only do the same work twice, safely). :meth:`ChannelWorker.run_round` does one
pass of everything in order (tests, ``sync`` without ``--follow``); :meth:`follow`
runs the relay and each store's order reading in threads of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from tierstock.domain.channels import Channel
from tierstock.platforms.base import PlatformError
from tierstock.services.channels.clients import Clients
from tierstock.services.channels.orders_in import (
    LAG,
    OVERLAP,
    POLL_OVERLAP,
    SyncReport,
    sync_orders,
)
from tierstock.services.channels.reconcile import Drift, reconcile
from tierstock.services.channels.relay import OVERLAP_ENTRIES, PushReport, Relay, queue_changes
from tierstock.services.placing.path import Database

log = logging.getLogger("tierstock.channels")

STORES_EVERY = 5.0  # seconds between looks for stores added while the worker runs
OVERLAP_EVERY = 5.0  # seconds between re-reads of the ledger's overlap (relay.py)
PUSH_BATCH = 50  # pushes per relay pass: live SKUs never wait behind a long storm batch


@dataclass
class RoundReport:
    queued: int = 0
    pushes: PushReport = field(default_factory=PushReport)
    orders: dict[str, SyncReport] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def eventful(self) -> bool:
        """Something happened: a figure pushed (or a push failed), an order placed,
        cancelled or kept as an incident, a drift found, an error. Links queued again and
        orders read again in a window's overlap do not count: every round has those."""
        return bool(
            self.pushes.pushed
            or self.pushes.failed
            or any(r.placed or r.incidents or r.cancelled or r.errors for r in self.orders.values())
            or self.drift
            or self.errors
        )


class ChannelWorker:
    def __init__(
        self,
        db: Database,
        key: bytes | None,
        *,
        push_workers: int = 8,
        reconcile_every: float = 300.0,
        lag: timedelta = LAG,
    ) -> None:
        self.db = db
        self.clients = Clients(db, key)
        self.relay = Relay(db, self.clients, push_workers)
        self.reconcile_every = reconcile_every
        self.lag = lag  # how far behind now an order window ends (orders_in.LAG)
        self._last_reconcile = time.monotonic()
        self._stop = threading.Event()
        self._heard: dict[str, SyncReport] = {}  # order loops' reports for the relay's pass
        self._heard_errors: list[str] = []
        self._heard_lock = threading.Lock()

    def close(self) -> None:
        self.relay.close()
        self.clients.close()

    def stop(self) -> None:
        self._stop.set()

    def run_round(self, *, reconcile_now: bool = False) -> RoundReport:
        report = RoundReport(queued=queue_changes(self.db))
        report.pushes = self.relay.push_due()
        with self.db.uow(readonly=True) as uow:
            stores = [c for c in uow.channels.channels() if c.platform.is_store_platform]
        for channel in stores:
            try:
                report.orders[channel.name] = sync_orders(
                    self.db, channel, self.clients.get(channel), lag=self.lag
                )
            except PlatformError as exc:
                report.errors.append(f"{channel.name}: {exc}")
                log.warning("order sync of %s failed: %s", channel.name, exc)
        if reconcile_now or time.monotonic() - self._last_reconcile >= self.reconcile_every:
            self._last_reconcile = time.monotonic()
            for shop_id in sorted({c.shop_id for c in stores}):
                report.drift += reconcile(self.db, self.clients, shop_id)
        return report

    def follow(
        self, interval: float = 0.2, on_round: Callable[[RoundReport], None] | None = None
    ) -> None:
        """Keep every store in step until :meth:`stop`: one thread pushes (the relay:
        stock changes queued, live SKUs first, drift repaired every ``reconcile_every``)
        and one thread per store reads its orders, so a slow store or a push storm never
        holds up another store's orders or the live session's pushes. ``on_round`` sees
        each pass of the relay, with what the order loops did since the pass before
        (``tierstock channels sync``), in the relay's thread.
        """
        loops: dict[int, threading.Thread] = {}
        relay = threading.Thread(
            target=self._relay_loop, args=(interval, on_round), name="channel-relay"
        )
        relay.start()
        while not self._stop.is_set():
            with self.db.uow(readonly=True) as uow:
                stores = [c for c in uow.channels.channels() if c.platform.is_store_platform]
            for channel in stores:
                if channel.id not in loops:
                    loops[channel.id] = threading.Thread(
                        target=self._orders_loop,
                        args=(channel, interval),
                        name=f"channel-orders-{channel.id}",
                    )
                    loops[channel.id].start()
            self._stop.wait(STORES_EVERY)
        relay.join()
        for loop in loops.values():
            loop.join()

    def _relay_loop(self, interval: float, on_round: Callable[[RoundReport], None] | None) -> None:
        last_overlap = 0.0
        while not self._stop.is_set():
            try:
                overlap = time.monotonic() - last_overlap >= OVERLAP_EVERY
                if overlap:
                    last_overlap = time.monotonic()
                report = RoundReport(
                    queued=queue_changes(self.db, overlap_entries=OVERLAP_ENTRIES if overlap else 0)
                )
                report.pushes = self.relay.push_due(PUSH_BATCH)
                if time.monotonic() - self._last_reconcile >= self.reconcile_every:
                    self._last_reconcile = time.monotonic()
                    with self.db.uow(readonly=True) as uow:
                        shops = sorted({c.shop_id for c in uow.channels.channels()})
                    for shop_id in shops:
                        report.drift += reconcile(self.db, self.clients, shop_id)
            except Exception:
                log.exception("channel relay failed; retrying")
                self._stop.wait(1.0)
                continue
            with self._heard_lock:
                report.orders, self._heard = self._heard, {}
                report.errors += self._heard_errors
                self._heard_errors = []
            if on_round is not None:
                on_round(report)
            if not report.pushes.pushed and not report.pushes.failed:
                self._stop.wait(interval)

    def _orders_loop(self, channel: Channel, interval: float) -> None:
        overlap = OVERLAP  # the first read after a (re)start looks further back
        while not self._stop.is_set():
            report = RoundReport()
            try:
                got = sync_orders(
                    self.db, channel, self.clients.get(channel), lag=self.lag, overlap=overlap
                )
                report.orders[channel.name] = got
                overlap = POLL_OVERLAP
            except PlatformError as exc:
                report.errors.append(f"{channel.name}: {exc}")
                log.warning("order sync of %s failed: %s", channel.name, exc)
            except Exception:
                log.exception("order sync of %s failed; retrying", channel.name)
                self._stop.wait(1.0)
                continue
            with self._heard_lock:  # handed to the relay's next pass
                for name, got in report.orders.items():
                    self._heard[name] = _merged(self._heard.get(name), got)
                self._heard_errors += report.errors
            if not report.eventful:
                self._stop.wait(interval)


def _merged(a: SyncReport | None, b: SyncReport) -> SyncReport:
    if a is None:
        return b
    return SyncReport(
        a.pages + b.pages,
        a.seen + b.seen,
        a.placed + b.placed,
        a.incidents + b.incidents,
        a.cancelled + b.cancelled,
        a.skipped + b.skipped,
        a.known + b.known,
        a.errors + b.errors,
    )
