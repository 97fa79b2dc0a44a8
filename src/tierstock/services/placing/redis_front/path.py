"""The Redis front as an :class:`~tierstock.services.placing.path.OrderPath`.

The front sells what it can (single-line orders of SKUs it has leases for) and hands
everything else — several lines, a SKU whose presale follows supplier batches, the front
switched off or Redis unreachable — to the path behind it, so a buyer always gets an
answer. Cancels go to the database: an order the front answered is cancellable once it
is folded (until then a cancel answers 404, documented in the README).
"""

from __future__ import annotations

from collections.abc import Sequence

from tierstock.domain.orders import Order
from tierstock.services.placing.order import CancelOrder, OrderPlaced, PlaceOrder
from tierstock.services.placing.path import OrderPath
from tierstock.services.placing.redis_front.front import ReservationFront


class FrontPath:
    """Redis first, then ``behind`` (group commit or one transaction per order)."""

    def __init__(self, front: ReservationFront, behind: OrderPath) -> None:
        self.front = front
        self.behind = behind

    def place(self, cmd: PlaceOrder) -> OrderPlaced:
        reserved = self.front.place(cmd)
        return reserved if reserved is not None else self.behind.place(cmd)

    def place_many(self, cmds: Sequence[PlaceOrder]) -> list[OrderPlaced | BaseException]:
        answers: list[OrderPlaced | BaseException] = []
        for cmd in cmds:
            try:
                answers.append(self.place(cmd))
            except Exception as exc:
                answers.append(exc)
        return answers

    def cancel(self, cmd: CancelOrder) -> Order:
        return self.behind.cancel(cmd)
