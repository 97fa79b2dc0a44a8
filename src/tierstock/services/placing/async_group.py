"""Group the requests one event loop is serving into batches — the asyncio twin of
services/leader_queue.py, for the API's hot path.

A FastAPI ``def`` endpoint runs in a worker thread: under a burst the hand-off to the
thread pool, and the threads' fight for the GIL, cost more than the order itself and
put a long tail on latency. Here a request awaits a future on the event loop; one task
per group settles everything queued meanwhile with one call (a Redis pipeline, or one
worker-thread call that writes a whole batch in one transaction), so a batch costs one
hand-off however many buyers are in it. No artificial wait: at low load a batch is one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Settle = Callable[[list[T]], Awaitable[Sequence[R | BaseException]]]


class AsyncGroup(Generic[T, R]):
    """Use from one event loop only (each uvicorn worker process has its own)."""

    def __init__(self, settle: Settle[T, R], max_batch: int) -> None:
        self._settle = settle
        self.max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._running = False

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._settle_batch(batch)
        finally:
            self._running = False

    async def _settle_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._settle([item for item, _ in batch])
        except BaseException as exc:  # every waiter gets the failure, none hangs
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # the request was cancelled (client went away)
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
