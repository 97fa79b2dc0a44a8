"""A live-stream burst (爆单) never oversells — docs/rules.md §3.

Many buyers pay at once for one tiered SKU, on threads of one process and on several
processes, on SQLite and on PostgreSQL. Every check is computed back from the database,
not from what the buyers were told: units per tier, the unit ranges each line holds,
ship-by promises, and the ledger.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tierstock.domain.allocation import TierStock, units_held_twice
from tierstock.domain.errors import AlreadyCancelledError, InsufficientStockError
from tierstock.domain.ledger import LedgerMismatch
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import catalogue, shops, stock
from tierstock.services.placing import CancelOrder, PlaceOrder, cancel_order, place_order
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger

SPOT_HOURS = 48
PRESALE_DAYS = 5
TIERED = SalesFormSpec(SalesForm.TIERED, spot_window_hours=SPOT_HOURS, presale_days=PRESALE_DAYS)
SOLD_OUT = "insufficient_stock"


# set-up -------------------------------------------------------------------------------
def open_shop(runtime: Runtime) -> int:
    return shops.create_shop(shops.CreateShop("直播间 burst"), runtime.uow()).shop.id


def listed_sku(
    runtime: Runtime,
    shop_id: int,
    code: str,
    *,
    spot: int,
    presale: int,
    form: SalesFormSpec = TIERED,
) -> int:
    product = catalogue.create_product(
        catalogue.CreateProduct(shop_id, f"jacket {code}"), runtime.uow()
    )
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop_id, product.id, code, 29_900, form, spot_stock=spot, presale_stock=presale
        ),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop_id, product.id, True), runtime.uow())
    return sku.id


def pay(runtime: Runtime, shop_id: int, key: str, lines: Sequence[tuple[int, int]]) -> int | str:
    """One buyer pays: the order id, or ``"insufficient_stock"`` when refused for that
    reason. Any other error propagates and fails the test."""
    cmd = PlaceOrder(shop_id, key, tuple(LineRequest(s, q) for s, q in lines), buyer=key)
    try:
        return place_order(cmd, runtime.uow()).order.id
    except InsufficientStockError:
        return SOLD_OUT


def burst(
    runtime: Runtime,
    shop_id: int,
    sku_id: int,
    wants: Sequence[int],
    *,
    threads: int,
    prefix: str = "buyer",
) -> list[int | str]:
    """Buyer ``i`` pays for ``wants[i]`` units with its own Idempotency-Key."""

    def one(i: int) -> int | str:
        return pay(runtime, shop_id, f"{prefix}-{i}", [(sku_id, wants[i])])

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(len(wants))))


# what the database says after the burst -----------------------------------------------
@dataclass(frozen=True)
class Outcome:
    tiers: dict[Tier, TierStock]
    lines: list[Any]  # rows of lines_of_sku
    paid_at: dict[int, datetime]  # order id -> paid_at as stored
    mismatches: list[LedgerMismatch]

    def lines_in(self, tier: Tier) -> list[Any]:
        return [ln for ln in self.lines if ln.tier == tier.value]

    def units_in_lines(self, tier: Tier) -> int:
        return sum(ln.quantity for ln in self.lines_in(tier))


def outcome(runtime: Runtime, shop_id: int, sku_id: int) -> Outcome:
    with runtime.uow(readonly=True) as uow:
        tiers = uow.stock.tiers([sku_id])[sku_id]
        lines = uow.orders.lines_of_sku(sku_id)
        paid_at: dict[int, datetime] = {}
        for order_id in {ln.order_id for ln in lines}:
            order = uow.orders.get(shop_id, order_id)
            assert order is not None
            paid_at[order_id] = order.paid_at
    _, mismatches = verify_ledger(runtime.uow(readonly=True), shop_id)
    return Outcome(tiers, lines, paid_at, mismatches)


def assert_never_oversold(seen: Outcome) -> None:
    """Sold within stock, each unit held by one line, promises by tier, ledger = stock."""
    for tier in Tier:
        held = seen.tiers[tier]
        assert 0 <= held.sold <= held.quantity, f"{tier} oversold: {held}"
        assert seen.units_in_lines(tier) == held.sold
        pairs = [(ln.tier_sold_after, ln.quantity) for ln in seen.lines_in(tier)]
        assert units_held_twice(pairs) == 0, f"a {tier} unit went to two buyers"
        assert all(0 < after <= held.quantity for after, _ in pairs)
    for ln in seen.lines_in(Tier.SPOT):
        assert ln.ship_by == seen.paid_at[ln.order_id] + timedelta(hours=SPOT_HOURS)
    for ln in seen.lines_in(Tier.PRESALE):
        assert ln.ship_by == seen.paid_at[ln.order_id] + timedelta(days=PRESALE_DAYS)
    assert [m.describe() for m in seen.mismatches] == []


def assert_tiers_fill_in_order(
    seen: Outcome, wants: Sequence[int], results: Sequence[int | str]
) -> None:
    """Spot only shrinks in a burst, so a presale line, or a refused buyer, that would
    have fitted the spot units left at the end would have fitted spot when it paid."""
    spot_left = seen.tiers[Tier.SPOT].available
    presale_left = seen.tiers[Tier.PRESALE].available
    for ln in seen.lines_in(Tier.PRESALE):
        assert ln.quantity > spot_left, "a presale line would have fitted spot"
    for want, result in zip(wants, results, strict=True):
        if result == SOLD_OUT:
            assert want > spot_left and want > presale_left, "refused though stock was left"
    orders_by_id = Counter(r for r in results if r != SOLD_OUT)
    assert all(n == 1 for n in orders_by_id.values()), "two buyers got the same order"
    assert sorted(orders_by_id) == sorted(ln.order_id for ln in seen.lines)


# threads of one process ---------------------------------------------------------------
def test_a_burst_of_a_thousand_buyers_sells_exactly_spot_then_presale_stock(runtime):
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "BURST-1", spot=100, presale=400)

    results = burst(runtime, shop, sku, [1] * 1000, threads=64)

    seen = outcome(runtime, shop, sku)
    assert results.count(SOLD_OUT) == 500
    assert seen.tiers[Tier.SPOT] == TierStock(Tier.SPOT, 100, 100)
    assert seen.tiers[Tier.PRESALE] == TierStock(Tier.PRESALE, 400, 400)
    assert len(seen.lines_in(Tier.SPOT)) == 100
    assert len(seen.lines_in(Tier.PRESALE)) == 400
    assert_never_oversold(seen)
    assert_tiers_fill_in_order(seen, [1] * 1000, results)


def test_a_burst_of_mixed_quantities_never_sells_beyond_stock(runtime):
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "BURST-MIXED", spot=100, presale=400)
    rng = random.Random(20261126)
    wants = [rng.randint(1, 3) for _ in range(500)]

    results = burst(runtime, shop, sku, wants, threads=64)

    seen = outcome(runtime, shop, sku)
    assert_never_oversold(seen)
    assert_tiers_fill_in_order(seen, wants, results)
    sold = seen.tiers[Tier.SPOT].sold + seen.tiers[Tier.PRESALE].sold
    paid_units = sum(w for w, r in zip(wants, results, strict=True) if r != SOLD_OUT)
    assert sold == paid_units
    # demand (about 1,000 units) is twice the stock: at most 2 units of each tier are left
    assert seen.tiers[Tier.SPOT].available <= 2
    assert seen.tiers[Tier.PRESALE].available <= 2


# separate processes -------------------------------------------------------------------
PROCESSES = 8
THREADS_PER_PROCESS = 8


def _buyers_in_a_process(
    url: str,
    shop_id: int,
    sku_id: int,
    wants: list[int],
    first: int,
    count: int,
    start: object,
    results: object,
) -> None:
    """Run in a spawned process: its own runtime and thread pool, started together with
    the other processes, sending (buyer, result) pairs back."""
    runtime = Runtime.open(url, migrate=False)
    try:
        start.wait(timeout=120)  # type: ignore[attr-defined]

        def one(i: int) -> tuple[int, int | str]:
            return i, pay(runtime, shop_id, f"process-buyer-{i}", [(sku_id, wants[i])])

        with ThreadPoolExecutor(THREADS_PER_PROCESS) as pool:
            paid = list(pool.map(one, range(first, first + count)))
        results.put(("ok", paid))  # type: ignore[attr-defined]
    except BaseException as exc:  # the parent reports it
        results.put(("error", repr(exc)))  # type: ignore[attr-defined]
    finally:
        runtime.engine.dispose()


def burst_in_processes(url: str, shop_id: int, sku_id: int, wants: list[int]) -> list[int | str]:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    queue = ctx.Queue()
    share = len(wants) // PROCESSES
    procs = [
        ctx.Process(
            target=_buyers_in_a_process,
            args=(url, shop_id, sku_id, wants, p * share, share, start, queue),
        )
        for p in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    try:
        replies = [queue.get(timeout=180) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    errors = [detail for status, detail in replies if status == "error"]
    assert errors == []
    results: list[int | str] = [SOLD_OUT] * len(wants)
    for _, paid in replies:
        for i, result in paid:
            results[i] = result
    return results


def test_buyers_in_eight_processes_never_oversell_the_same_sku(runtime, database_url):
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "BURST-PROC", spot=30, presale=120)
    rng = random.Random(8)
    wants = [rng.choice((1, 1, 1, 2, 3)) for _ in range(PROCESSES * 30)]

    runtime.engine.dispose()  # 64 connections come from the buyers: keep none idle here
    results = burst_in_processes(database_url, shop, sku, wants)

    seen = outcome(runtime, shop, sku)
    assert_never_oversold(seen)
    assert_tiers_fill_in_order(seen, wants, results)
    assert seen.tiers[Tier.SPOT].available <= 2
    assert seen.tiers[Tier.PRESALE].available <= 2
    assert seen.units_in_lines(Tier.SPOT) + seen.units_in_lines(Tier.PRESALE) == sum(
        w for w, r in zip(wants, results, strict=True) if r != SOLD_OUT
    )


# retries and lock order ---------------------------------------------------------------
def run_together(count: int, work: Callable[[int], object]) -> list[object]:
    """Start ``count`` threads at the same moment; return what each one returned."""
    start = threading.Barrier(count)

    def go(i: int) -> object:
        start.wait(timeout=60)
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(go, range(count)))


def test_twenty_concurrent_retries_of_one_payment_make_one_order(runtime):
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "RETRY", spot=5, presale=5)
    cmd = PlaceOrder(shop, "pay-once", (LineRequest(sku, 2),), buyer="impatient buyer")

    placed = run_together(20, lambda _: place_order(cmd, runtime.uow()))

    assert len({p.order.id for p in placed}) == 1  # type: ignore[attr-defined]
    assert [p.replayed for p in placed].count(False) == 1  # type: ignore[attr-defined]
    seen = outcome(runtime, shop, sku)
    assert seen.tiers[Tier.SPOT] == TierStock(Tier.SPOT, 5, 2)
    assert seen.tiers[Tier.PRESALE] == TierStock(Tier.PRESALE, 5, 0)
    assert len(seen.lines) == 1
    assert_never_oversold(seen)


def test_orders_naming_two_skus_in_opposite_orders_do_not_deadlock(runtime):
    shop = open_shop(runtime)
    red = listed_sku(runtime, shop, "RED", spot=300, presale=0)
    blue = listed_sku(runtime, shop, "BLUE", spot=300, presale=0)
    rounds = 60

    def buyer(i: int) -> list[int | str]:
        pair = [(red, 1), (blue, 1)] if i % 2 else [(blue, 1), (red, 1)]
        return [pay(runtime, shop, f"pair-{i}-{n}", pair) for n in range(rounds)]

    results = run_together(4, buyer)

    assert all(r != SOLD_OUT for per_thread in results for r in per_thread)  # type: ignore[attr-defined]
    for sku in (red, blue):
        seen = outcome(runtime, shop, sku)
        assert seen.tiers[Tier.SPOT] == TierStock(Tier.SPOT, 300, 4 * rounds)
        assert_never_oversold(seen)


def test_concurrent_cancels_of_one_line_return_its_units_once(runtime):
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "CANCEL-RACE", spot=5, presale=5)
    order_id = pay(runtime, shop, "to-cancel", [(sku, 3)])
    assert order_id != SOLD_OUT

    def cancel(_: int) -> str:
        try:
            cancel_order(CancelOrder(shop, order_id, 1), runtime.uow())  # type: ignore[arg-type]
            return "cancelled"
        except AlreadyCancelledError:
            return "already cancelled"

    answers = run_together(10, cancel)

    assert sorted(answers) == ["already cancelled"] * 9 + ["cancelled"]  # type: ignore[type-var]
    seen = outcome(runtime, shop, sku)
    assert seen.tiers[Tier.SPOT] == TierStock(Tier.SPOT, 5, 0)
    assert seen.tiers[Tier.PRESALE] == TierStock(Tier.PRESALE, 5, 0)
    assert [m.describe() for m in seen.mismatches] == []


def test_stock_changes_during_a_burst_keep_the_ledger_equal_to_stock(runtime):
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "TOP-UP", spot=20, presale=40)
    stop = threading.Event()

    def merchant() -> int:
        """Tops up and trims both tiers while buyers pay."""
        changes = 0
        while not stop.is_set() and changes < 40:
            tier = (Tier.SPOT, Tier.PRESALE)[changes % 2]
            if changes % 4 < 2:  # a receipt with its evidence (docs/rules.md §3.5)
                receipt = stock.ReceiveStock(
                    shop, sku, tier, 3, supplier="工厂", delivery_note=f"DN-{changes}"
                )
                stock.receive_stock(receipt, runtime.uow())
            else:  # raising without evidence is the owner's override
                cmd = stock.SetStock(
                    shop, sku, tier, changes % 3, reason="补货", role="owner", override=True
                )
                stock.set_stock(cmd, runtime.uow())
            changes += 1
        return changes

    with ThreadPoolExecutor(1) as side:
        changed = side.submit(merchant)
        rng = random.Random(42)
        burst(
            runtime, shop, sku, [rng.randint(1, 2) for _ in range(300)], threads=32, prefix="top-up"
        )
        stop.set()
        assert changed.result() > 0

    seen = outcome(runtime, shop, sku)
    assert_never_oversold(seen)
