"""What every platform double shares: a real HTTP server on loopback, the store's state
(SKU stock, orders), and faults a test or the demo turns on at will.

A double is built from the platform's public API documentation (README: Channels says
which page each behaviour comes from): it checks signatures exactly as documented and
answers in the documented shapes, so the real client (platforms/) is exercised as it
would be against the platform. Faults: ``latency_s`` on every call; ``fail_next(n)``
answers 5xx; ``hang_next(n)`` answers only after ``hang_s`` (a client timeout);
``apply_then_fail_next(n)`` applies a stock change and then answers 5xx (the retried
delta that must not apply twice); ``rate_limit_per_s`` refuses calls beyond it with the
platform's rate-limit error; ``duplicate_orders`` delivers every order on two pages.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tierstock.testing.server import free_port

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Faults:
    latency_s: float = 0.0
    fail_next: int = 0  # calls answered 5xx before any effect
    hang_next: int = 0  # calls that answer only after hang_s
    hang_s: float = 5.0
    apply_then_fail_next: int = 0  # stock changes applied, then answered 5xx
    rate_limit_per_s: float | None = None
    duplicate_orders: bool = False


@dataclass
class StoreState:
    """The store on the platform: stock per platform SKU, orders as the platform keeps
    them (its own JSON shape), and what the double saw."""

    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    stock_changes: int = 0


class PlatformDouble:
    """Subclasses set ``name`` and return their routes from :meth:`routes`.

    Use as a context manager (``with KuaishouDouble(...) as double:``) or call
    :meth:`start` / :meth:`stop`; ``url`` is the base URL to give the real client.
    """

    name = "platform"

    def __init__(self) -> None:
        self.state = StoreState()
        self.faults = Faults()
        self.lock = threading.Lock()
        self._window: list[float] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- overridden by each platform ---------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def rate_limited(self) -> Response:
        """The platform's own answer to a call beyond its rate limit."""
        return JSONResponse({"error": "rate limited"}, status_code=429)

    # --- the store, for tests and the demo ------------------------------------------------
    def set_stock(self, item_id: str, sku_id: str, figure: int) -> None:
        with self.lock:
            self.state.stock[(item_id, sku_id)] = figure

    def stock_of(self, item_id: str, sku_id: str) -> int:
        with self.lock:
            return self.state.stock.get((item_id, sku_id), 0)

    # --- serving --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self.port = free_port()
        app = Starlette(routes=self.routes())
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"{self.name}-double")
        self._thread.daemon = True
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the {self.name} double did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- faults, applied by every route through ``guarded`` ----------------------------
    def guarded(self, handler: Handler) -> Handler:
        """Wrap a route: latency, rate limit, hangs and 5xx before the handler runs."""

        async def run(request: Request) -> Response:
            refusal = await self._before_call()
            if refusal is not None:
                return refusal
            return await handler(request)

        return run

    async def _before_call(self) -> Response | None:
        faults = self.faults
        if faults.latency_s:
            await asyncio.sleep(faults.latency_s)
        with self.lock:
            if faults.rate_limit_per_s is not None and not self._admit(faults.rate_limit_per_s):
                return self.rate_limited()
            hang = faults.hang_next > 0
            if hang:
                faults.hang_next -= 1
            fail = not hang and faults.fail_next > 0
            if fail:
                faults.fail_next -= 1
        if hang:
            await asyncio.sleep(faults.hang_s)
        if fail:
            return JSONResponse({"error": "injected failure"}, status_code=503)
        return None

    def _admit(self, per_second: float) -> bool:
        now = time.monotonic()
        self._window = [t for t in self._window if now - t < 1.0]
        if len(self._window) >= per_second:
            return False
        self._window.append(now)
        return True

    def fail_after_applying(self) -> bool:
        """For stock routes: True when this change, already applied, must answer 5xx."""
        with self.lock:
            if self.faults.apply_then_fail_next > 0:
                self.faults.apply_then_fail_next -= 1
                return True
            return False
