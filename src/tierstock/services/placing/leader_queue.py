"""Leader/follower grouping of work that many threads hand in at once.

The first thread to arrive leads: it takes everything queued so far, settles it as one
batch (one database transaction, one Redis pipeline …) and hands the lead to the first
thread still waiting when its own item is done. Every other thread sleeps on its own
one-shot gate, so a finished batch wakes exactly its own threads — no thundering herd.
There is no artificial wait: at low load a batch is one item.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar


class Waiter:
    """One thread's item in the queue; subclasses carry the work itself.

    ``gate`` is a plain lock used as a one-shot gate (cheaper than an Event, which wraps
    a Condition): created held, released when settled or when handed the lead.
    """

    __slots__ = ("done", "error", "gate", "result")

    def __init__(self) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.gate = threading.Lock()
        self.gate.acquire()

    def settle(self, result: Any, error: BaseException | None = None) -> None:
        """Hand the thread its answer (or error) and wake it."""
        self.result, self.error, self.done = result, error, True
        self.gate.release()


W = TypeVar("W", bound=Waiter)


class LeaderQueue(Generic[W]):
    """Thread-safe: :meth:`run` returns once ``mine`` is settled (by some batch)."""

    def __init__(self, settle: Callable[[list[W]], None], max_batch: int) -> None:
        self._settle = settle
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[W] = []
        self._leading = False

    def run(self, mine: W) -> None:
        with self._lock:
            self._queue.append(mine)
            leader = not self._leading
            self._leading = True
        if not leader:
            mine.gate.acquire()
        if not mine.done:  # leading: by arriving first, or handed over by a leader
            self._lead(mine)

    def _lead(self, mine: W) -> None:
        """Settle batches until our own item is done, then hand the lead on."""
        while True:
            with self._lock:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
            try:
                self._settle_all(batch)
            finally:
                if mine.done or not batch:
                    self._hand_over()
            if mine.done:
                return

    def _settle_all(self, batch: list[W]) -> None:
        try:
            self._settle(batch)
        except BaseException as exc:  # never leave a thread asleep on its gate
            for item in batch:
                if not item.done:
                    item.settle(None, exc)
            raise
        for item in batch:
            if not item.done:
                item.settle(None, RuntimeError("the batch left this item unsettled"))

    def _hand_over(self) -> None:
        with self._lock:
            if not self._queue:
                self._leading = False
                return
            nxt = self._queue[0]
        nxt.gate.release()
