"""Cancelling: units go back to the tier they came from, each line at most once
(docs/rules.md §2). Every order path cancels through here: a cancel is rare, so it
needs no batching, and one rule for it keeps the ledger's CANCEL entries uniform."""

from __future__ import annotations

from typing import Protocol

from tierstock.domain.errors import AlreadyCancelledError, NotFoundError
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.orders import Order
from tierstock.domain.sales_forms import Tier
from tierstock.services.placing.order import CancelOrder
from tierstock.store.uow import UnitOfWork


class HeldUnits(Protocol):
    """What cancelling needs to know of a line (an OrderLine, or a shipping LineRef)."""

    @property
    def line_no(self) -> int: ...
    @property
    def sku_id(self) -> int: ...
    @property
    def tier(self) -> Tier: ...
    @property
    def quantity(self) -> int: ...


def return_line(
    uow: UnitOfWork, shop_id: int, order_id: int, line: HeldUnits, actor: str, reason: str
) -> bool:
    """Cancel one paid line inside the caller's transaction: flip its status, give its
    units back to the tier they came from, write the ledger entry. ``False`` (and no
    change) if the line was no longer paid, so concurrent cancels return units once."""
    now = uow.now()
    if not uow.orders.mark_cancelled(order_id, line.line_no, now):
        return False
    uow.stock.give_back(line.sku_id, line.tier, line.quantity)
    uow.stock.record(
        [
            LedgerEntry(
                shop_id,
                line.sku_id,
                line.tier,
                LedgerKind.CANCEL,
                0,
                -line.quantity,
                actor,
                reason,
                now,
                order_id,
                line.line_no,
            )
        ]
    )
    return True


def cancel_order(cmd: CancelOrder, uow: UnitOfWork) -> Order:
    """Units go back to the tier they came from (docs/rules.md §2), each line at most once."""
    with uow:
        order = uow.orders.get(cmd.shop_id, cmd.order_id)
        if order is None:
            raise NotFoundError(f"no order {cmd.order_id} in this shop", field="order_id")
        targets = [ln for ln in order.lines if cmd.line_no in (None, ln.line_no)]
        if cmd.line_no is not None and not targets:
            raise NotFoundError(f"order {order.id} has no line {cmd.line_no}", field="line_no")
        returned = [
            line
            for line in sorted(targets, key=lambda ln: (ln.sku_id, ln.line_no))
            if return_line(uow, cmd.shop_id, order.id, line, cmd.actor, cmd.reason)
        ]
        if not returned:
            raise AlreadyCancelledError(
                "nothing left to cancel: the line(s) are cancelled",
                field="line_no" if cmd.line_no else "order_id",
            )
        after = uow.orders.get(cmd.shop_id, order.id)
        uow.commit()
    assert after is not None
    return after
