"""The seam between the runtime and the three ways of placing an order.

A path never imports the runtime: it is handed a :class:`Database` (what the runtime
is, seen from below) and the runtime picks which path serves (services/runtime.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from tierstock.domain.idempotency import IdempotencyClaim
from tierstock.domain.orders import Order
from tierstock.services.placing.order import CancelOrder, OrderPlaced, PlaceOrder
from tierstock.store.engine import Engine
from tierstock.store.uow import UnitOfWork


class Database(Protocol):
    """Units of work on one database, and the clock they read."""

    @property
    def engine(self) -> Engine: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...

    def uow(
        self, *, readonly: bool = False, claim: IdempotencyClaim | None = None
    ) -> UnitOfWork: ...


class OrderPath(Protocol):
    """Place and cancel orders. Every path gives a buyer the same answer for the same
    payment (tests/contract): its order and lines, or the same refusal."""

    def place(self, cmd: PlaceOrder) -> OrderPlaced:
        """One buyer's order; thread-safe."""
        ...

    def place_many(self, cmds: Sequence[PlaceOrder]) -> list[OrderPlaced | BaseException]:
        """Orders that arrived together, in payment order; each gets its own answer."""
        ...

    def cancel(self, cmd: CancelOrder) -> Order:
        """Cancel a line or every paid line of an order."""
        ...
