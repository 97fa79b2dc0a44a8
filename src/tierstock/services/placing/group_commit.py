"""Group commit for a live-stream burst: the payments that arrive while one batch is
being written are allocated together in the next transaction (issue: live-burst
performance).

One transaction per order is bounded by the hot tier row: it stays locked from the
UPDATE to the COMMIT, so a hot SKU sells at most one order per commit. Here a leader
thread takes every payment queued so far (no artificial wait: at low load a batch is one
order), and in ONE short transaction:

1. finds which idempotency keys already have an order (a retry replays, after commit);
2. reads the batch's SKUs and locks their tier rows in id order;
3. allocates the orders in arrival (= payment) order with the same pure rule as
   :func:`tierstock.domain.allocation.choose_tier`: earliest tier holding the whole line;
4. writes one conditional ``UPDATE … SET sold = sold + :total WHERE sold + :total <=
   quantity`` per tier touched — the guard and the CHECK constraint still refuse an
   oversell if the arithmetic were wrong;
5. inserts every order, line and ledger entry with one statement each, and commits.

The leader's Python is the cost that matters under a burst (every buyer waits on it),
so the loop does per-batch work once (policy per shop, tier figures per SKU) and hands
the store plain tuples; the store runs these statements on the raw driver.

Each buyer gets its own answer (its order, or its own refusal) only after the COMMIT,
so nothing acknowledged is lost if the process dies mid-batch. Anything unusual (an
order with several lines, a key raced by another process, a failed batch) goes through
:func:`tierstock.services.placing.per_order.place_order`, one order per transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from tierstock.domain.allocation import choose_tier
from tierstock.domain.catalogue import Sku
from tierstock.domain.errors import DomainError, IdempotencyKeyReusedError
from tierstock.domain.orders import Order, check_lines
from tierstock.domain.policy import PolicyPack
from tierstock.domain.sales_forms import Tier
from tierstock.services.catalogue import shop_policy
from tierstock.services.placing.cancelling import cancel_order
from tierstock.services.placing.leader_queue import LeaderQueue, Waiter
from tierstock.services.placing.order import (
    CancelOrder,
    OrderPlaced,
    PlaceOrder,
    Sale,
    checked_key,
    deadline_of,
    placed,
    sale,
    sellable,
    short_of,
)
from tierstock.services.placing.path import Database
from tierstock.services.placing.per_order import place_order
from tierstock.store.uow import UnitOfWork

log = logging.getLogger("tierstock.batching")
MAX_BATCH = 256


class _Payment(Waiter):
    """One buyer's order in the queue (one is made per order: slots, no dataclass)."""

    __slots__ = ("cmd", "paid_at")

    def __init__(self, cmd: PlaceOrder, paid_at: datetime) -> None:
        super().__init__()
        self.cmd = cmd
        self.paid_at = paid_at


@dataclass
class _Outcome:
    """What one transaction decided for each payment of the batch."""

    sales: dict[int, Sale] = field(default_factory=dict)  # index -> allocated line
    refused: dict[int, DomainError] = field(default_factory=dict)
    later: list[int] = field(default_factory=list)  # replays and repeats, after commit


class GroupCommit:
    """The group-commit :class:`~tierstock.services.placing.path.OrderPath`: call
    :meth:`place` from any thread; the payments waiting together are settled as one
    batch (leader_queue.py). Thread-safe."""

    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self._queue: LeaderQueue[_Payment] = LeaderQueue(self.settle, max_batch)

    def place(self, cmd: PlaceOrder) -> OrderPlaced:
        if cmd.needs_own_transaction:
            return place_order(cmd, self.db.uow())
        checked_key(cmd)
        mine = _Payment(cmd, self.db.clock())
        self._queue.run(mine)
        if mine.error is not None:
            raise mine.error
        placed: OrderPlaced = mine.result
        return placed

    def place_many(self, cmds: Sequence[PlaceOrder]) -> list[OrderPlaced | BaseException]:
        """Place orders that arrived together — the API's event loop groups them
        (async_group.py) — in one batch; each gets its own answer or error."""
        answers: list[OrderPlaced | BaseException | None] = [None] * len(cmds)
        batch: list[tuple[int, _Payment]] = []
        for i, cmd in enumerate(cmds):
            try:
                if cmd.needs_own_transaction:
                    answers[i] = place_order(cmd, self.db.uow())
                    continue
                checked_key(cmd)
            except Exception as exc:
                answers[i] = exc
                continue
            batch.append((i, _Payment(cmd, self.db.clock())))
        self.settle([p for _, p in batch])
        for i, payment in batch:
            answers[i] = payment.error if payment.error is not None else payment.result
        return [a if a is not None else RuntimeError("no answer") for a in answers]

    def cancel(self, cmd: CancelOrder) -> Order:
        return cancel_order(cmd, self.db.uow())

    def settle(self, batch: list[_Payment]) -> None:
        """Answer every payment of the batch; allocated and refused buyers are woken
        at once, before the replays and fallbacks (each its own transaction) run."""
        if not batch:
            return
        try:
            outcome = allocate_batch(
                [p.cmd for p in batch], [p.paid_at for p in batch], self.db.uow()
            )
        except Exception:
            log.warning(
                "batch of %d failed; placing its orders one by one", len(batch), exc_info=True
            )
            outcome = _Outcome(later=list(range(len(batch))))
        sales, refused = outcome.sales, outcome.refused
        for i, payment in enumerate(batch):
            if i in sales:
                payment.settle(outcome_order(payment, sales[i]), None)
            elif i in refused:
                payment.settle(None, refused[i])
        for i in outcome.later:
            try:
                batch[i].settle(place_order(batch[i].cmd, self.db.uow()), None)
            except Exception as exc:
                batch[i].settle(None, exc)


def outcome_order(payment: _Payment, allocated: Sale) -> OrderPlaced:
    order_id = allocated.entry.order_id
    assert order_id is not None
    return OrderPlaced(
        placed(order_id, payment.cmd, payment.paid_at, [allocated.line]), replayed=False
    )


def allocate_batch(cmds: list[PlaceOrder], paid_at: list[datetime], uow: UnitOfWork) -> _Outcome:
    """Allocate single-line orders in payment order in one transaction (see module)."""
    outcome = _Outcome()
    keys = [(c.shop_id, c.idempotency_key.strip()) for c in cmds]
    with uow:
        fresh = _fresh(cmds, keys, uow, outcome)
        allocated = _allocate(cmds, paid_at, fresh, uow, outcome)
        if allocated:
            _write(cmds, keys, paid_at, allocated, uow, outcome)
        uow.commit()
    return outcome


def _fresh(
    cmds: list[PlaceOrder], keys: list[tuple[int, str]], uow: UnitOfWork, outcome: _Outcome
) -> list[int]:
    """The payments whose key is new; a retry or a repeat replays after commit, a key
    reused for a different order is refused."""
    known = uow.orders.find_keys(keys)
    seen: set[tuple[int, str]] = set()
    fresh = []
    for i, key in enumerate(keys):
        if key in known:
            if known[key].request_hash != cmds[i].request_hash():
                outcome.refused[i] = IdempotencyKeyReusedError(
                    "this Idempotency-Key was already used for a different order",
                    field="Idempotency-Key",
                )
            else:
                outcome.later.append(i)  # a retry: replayed after commit
        elif key in seen:
            outcome.later.append(i)  # same key twice in one batch: the first wins
        else:
            seen.add(key)
            fresh.append(i)
    return fresh


class _Taken(NamedTuple):
    position: int  # in the batch
    sku: Sku
    tier: Tier
    sold_after: int
    deadline: datetime  # ship-by, fixed now (orders.deadline_of)


class _Stock:
    """The batch's view of its locked tier rows: units left and sold, per SKU and tier,
    updated in Python as orders are allocated (the UPDATEs come after, per tier)."""

    def __init__(self, uow: UnitOfWork, sku_ids: set[int]) -> None:
        tiers = uow.stock.lock_tiers(sku_ids)
        self.left = {sku: {t: s.available for t, s in ts.items()} for sku, ts in tiers.items()}
        self.sold = {sku: {t: s.sold for t, s in ts.items()} for sku, ts in tiers.items()}

    def choose(self, sku: Sku, quantity: int) -> Tier | None:
        return choose_tier(quantity, sku.sales_form.tiers, self.left.get(sku.id, {}))

    def take(self, sku: Sku, tier: Tier, quantity: int) -> None:
        self.left[sku.id][tier] -= quantity
        self.sold[sku.id][tier] += quantity


def _allocate(
    cmds: list[PlaceOrder],
    paid_at: list[datetime],
    fresh: list[int],
    uow: UnitOfWork,
    outcome: _Outcome,
) -> list[_Taken]:
    """Decide each fresh order's tier, in payment order, under the tier-row locks."""
    by_shop: dict[int, set[int]] = defaultdict(set)
    for i in fresh:
        by_shop[cmds[i].shop_id].add(cmds[i].lines[0].sku_id)
    forsale = {shop: uow.catalogue.skus_for_sale(shop, ids) for shop, ids in by_shop.items()}
    stock = _Stock(uow, {sku for ids in by_shop.values() for sku in ids})
    policies: dict[int, PolicyPack] = {}  # per shop, read once per batch
    taken = []
    for i in fresh:
        cmd, req = cmds[i], cmds[i].lines[0]
        try:
            policy = policies.get(cmd.shop_id)
            if policy is None:
                policy = policies[cmd.shop_id] = shop_policy(uow, cmd.shop_id)
            check_lines([req], policy.orders)
            sku = sellable(forsale[cmd.shop_id], req, 0)
            tier = stock.choose(sku, req.quantity)
            if tier is None:
                raise short_of(sku, req, 0)
            sold_after = stock.sold[sku.id][tier] + req.quantity
            deadline = deadline_of(
                uow, sku, tier, req.quantity, sold_after, paid_at[i], policy, "lines[0].quantity"
            )
        except DomainError as exc:
            outcome.refused[i] = exc
            continue
        stock.take(sku, tier, req.quantity)
        taken.append(_Taken(i, sku, tier, sold_after, deadline))
    return taken


def _write(
    cmds: list[PlaceOrder],
    keys: list[tuple[int, str]],
    paid_at: list[datetime],
    taken: list[_Taken],
    uow: UnitOfWork,
    outcome: _Outcome,
) -> None:
    """One conditional UPDATE per tier touched, then every row in one statement each."""
    totals: dict[tuple[int, Tier], int] = defaultdict(int)
    for t in taken:
        totals[(t.sku.id, t.tier)] += cmds[t.position].lines[0].quantity
    for (sku_id, tier), total in sorted(totals.items()):
        if uow.stock.take(sku_id, tier, total) is None:
            raise RuntimeError(f"batch allocation disagrees with tier {tier} of SKU {sku_id}")
    order_ids = uow.orders.add_orders(
        [
            (*keys[i], cmds[i].request_hash(), cmds[i].buyer, paid_at[i])
            for i in (t.position for t in taken)
        ]
    )
    lines = []
    for t, order_id in zip(taken, order_ids, strict=True):
        cmd = cmds[t.position]
        allocated = sale(
            cmd,
            order_id,
            1,
            t.sku,
            t.tier,
            cmd.lines[0].quantity,
            t.sold_after,
            paid_at[t.position],
            t.deadline,
        )
        outcome.sales[t.position] = allocated
        lines.append((cmd.shop_id, order_id, allocated.line))
    uow.orders.insert_lines_of(lines)
    uow.stock.record([outcome.sales[t.position].entry for t in taken])
