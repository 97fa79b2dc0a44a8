"""'Simulate burst' on the live page: buyers paying for one SKU, as `tierstock demo` does.

The buyers are real calls of :func:`tierstock.services.placing.per_order.place_order` against the
shop's own SKU (each with its own idempotency key and buyer name ``sim-…``), paced at a
chosen rate so the live view can be watched. They are real paid orders: the page says
so before the button is pressed. One burst per shop runs at a time.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.domain.orders import LineRequest
from tierstock.services import stock
from tierstock.services.placing import PlaceOrder, place_order
from tierstock.services.runtime import Runtime

MAX_BUYERS = 5000
MAX_RATE = 2000
WORKERS = 8


@dataclass(frozen=True)
class BurstRequest:
    shop_id: int
    sku_id: int
    buyers: int
    per_second: int
    max_quantity: int = 1
    actor: str = "web-simulation"


@dataclass
class BurstProgress:
    id: str
    request: BurstRequest
    paid: int = 0
    refused: int = 0
    done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def answered(self) -> int:
        return self.paid + self.refused


class Bursts:
    """The bursts this server process has started, by id, scoped to their shop."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._by_id: dict[str, BurstProgress] = {}
        self._guard = threading.Lock()

    def get(self, shop_id: int, burst_id: str) -> BurstProgress | None:
        found = self._by_id.get(burst_id)
        return found if found and found.request.shop_id == shop_id else None

    def start(self, req: BurstRequest) -> BurstProgress:
        if not 1 <= req.buyers <= MAX_BUYERS:
            raise InvalidValueError(f"buyers must be between 1 and {MAX_BUYERS}", field="buyers")
        if not 1 <= req.per_second <= MAX_RATE:
            raise InvalidValueError(
                f"rate must be between 1 and {MAX_RATE} per second", field="per_second"
            )
        stock.read_stock(req.shop_id, req.sku_id, self.runtime.uow(readonly=True))
        with self._guard:
            if any(not b.done and b.request.shop_id == req.shop_id for b in self._by_id.values()):
                raise InvalidValueError(
                    "a simulated burst is already running for this shop", field="sku_id"
                )
            progress = BurstProgress(secrets.token_hex(6), req)
            self._by_id[progress.id] = progress
        threading.Thread(
            target=self._run, args=(progress,), daemon=True, name=f"burst-{progress.id}"
        ).start()
        return progress

    def _run(self, progress: BurstProgress) -> None:
        req = progress.request
        rng = random.Random(progress.id)
        wants = [rng.randint(1, req.max_quantity) for _ in range(req.buyers)]
        started = time.monotonic()

        def buy(i: int) -> None:
            delay = started + i / req.per_second - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            cmd = PlaceOrder(
                req.shop_id,
                f"sim-{progress.id}-{i}",
                (LineRequest(req.sku_id, wants[i]),),
                f"sim-buyer-{i}",
                req.actor,
            )
            try:
                place_order(cmd, self.runtime.uow())
                paid = True
            except DomainError:
                paid = False
            with progress.lock:
                if paid:
                    progress.paid += 1
                else:
                    progress.refused += 1

        try:
            with ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(buy, range(req.buyers)))
        finally:
            progress.done = True
