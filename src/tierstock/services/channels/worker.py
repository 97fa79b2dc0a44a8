"""The channel worker: one loop per database that keeps every store in step.

Each round: queue the links of SKUs whose stock moved (relay.queue_changes), push what
is due (live sessions first, each store within its rate), read each store's new orders
(orders_in). Every ``reconcile_every`` seconds it also repairs drift. Everything it
does is idempotent and its progress is in the database, so ``kill -9`` at any point
and a restart lose and double nothing (tests/integration/test_channels_crash.py).

Run it with ``tierstock channels sync --follow`` (one per database is enough; two
would only do the same work twice, safely).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from tierstock.platforms.base import PlatformError
from tierstock.services.channels.clients import Clients
from tierstock.services.channels.orders_in import LAG, SyncReport, sync_orders
from tierstock.services.channels.reconcile import Drift, reconcile
from tierstock.services.channels.relay import PushReport, Relay, queue_changes
from tierstock.services.placing.path import Database

log = logging.getLogger("tierstock.channels")


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
        """Run rounds until :meth:`stop`; a round with nothing to do sleeps ``interval``.
        ``on_round`` sees each finished round's report (``tierstock channels sync``)."""
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                report = self.run_round()
            except Exception:
                log.exception("channel round failed; retrying")
                self._stop.wait(1.0)
                continue
            if on_round is not None:
                on_round(report)
            # not ``report.queued`` nor orders seen: the ledger is re-read with an overlap
            # and order windows overlap too, so every round has those and would never sleep
            busy = report.pushes.pushed or any(
                r.placed or r.incidents or r.cancelled for r in report.orders.values()
            )
            if not busy:
                self._stop.wait(max(0.0, interval - (time.monotonic() - started)))
