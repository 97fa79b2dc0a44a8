"""One transaction per order — the plain path, and the fallback of the other two.

``place_order`` claims the idempotency key, reads the SKUs, then runs one conditional
UPDATE per line (in SKU-id order, so two orders never deadlock) on the earliest tier
that holds the whole line (:func:`tierstock.domain.allocation.first_tier_taking`: the
store's conditional UPDATE is the "holds" test), then inserts the lines and their ledger
entries. No stock figure is ever read into Python and written back.

Orders of several lines, orders whose ship-by was promised elsewhere (a platform
order), retries raced by another process and batches the database refused take this
path whatever the runtime chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from tierstock.domain.allocation import first_tier_taking
from tierstock.domain.orders import Order, check_lines
from tierstock.services.catalogue import shop_policy
from tierstock.services.placing.cancelling import cancel_order
from tierstock.services.placing.order import (
    CancelOrder,
    OrderPlaced,
    PlaceOrder,
    Sale,
    checked_key,
    deadline_of,
    placed,
    replay,
    sale,
    sellable,
    short_of,
)
from tierstock.services.placing.path import Database
from tierstock.store.uow import UnitOfWork


def place_order(cmd: PlaceOrder, uow: UnitOfWork) -> OrderPlaced:
    """Place one order in its own transaction (see the module docstring)."""
    key = checked_key(cmd)
    with uow:
        policy = shop_policy(uow, cmd.shop_id)
        check_lines(list(cmd.lines), policy.orders)
        paid_at = uow.now()
        request_hash = cmd.request_hash()
        order_id = uow.orders.insert_order(cmd.shop_id, key, request_hash, cmd.buyer, paid_at)
        if order_id is None:
            return replay(cmd.shop_id, key, request_hash, uow)
        forsale = uow.catalogue.skus_for_sale(cmd.shop_id, (ln.sku_id for ln in cmd.lines))
        sales: list[Sale] = []
        numbered = sorted(enumerate(cmd.lines, start=1), key=lambda p: (p[1].sku_id, p[0]))
        for line_no, req in numbered:
            sku = sellable(forsale, req, line_no - 1)
            tiers = sku.sales_form.tiers
            if cmd.tiers is not None:
                tiers = tuple(t for t in tiers if t in cmd.tiers)
            taken = first_tier_taking(tiers, partial(uow.stock.take, sku.id, quantity=req.quantity))
            if taken is None:
                raise short_of(sku, req, line_no - 1)
            tier, sold_after = taken
            where = f"lines[{line_no - 1}].quantity"
            deadline = cmd.ship_by or deadline_of(
                uow, sku, tier, req.quantity, sold_after, paid_at, policy, where
            )
            sales.append(
                sale(cmd, order_id, line_no, sku, tier, req.quantity, sold_after, paid_at, deadline)
            )
        sales.sort(key=lambda x: x.line.line_no)
        uow.orders.insert_lines(cmd.shop_id, order_id, [x.line for x in sales])
        uow.stock.record([x.entry for x in sales])
        uow.commit()
    return OrderPlaced(placed(order_id, cmd, paid_at, [x.line for x in sales]), replayed=False)


class PerOrder:
    """The :class:`~tierstock.services.placing.path.OrderPath` of one transaction per
    order: simplest, and the slowest under a burst (the hot tier row stays locked from
    its UPDATE to the COMMIT, so a SKU sells one order per commit)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def place(self, cmd: PlaceOrder) -> OrderPlaced:
        return place_order(cmd, self.db.uow())

    def place_many(self, cmds: Sequence[PlaceOrder]) -> list[OrderPlaced | BaseException]:
        answers: list[OrderPlaced | BaseException] = []
        for cmd in cmds:
            try:
                answers.append(self.place(cmd))
            except Exception as exc:
                answers.append(exc)
        return answers

    def cancel(self, cmd: CancelOrder) -> Order:
        return cancel_order(cmd, self.db.uow())
