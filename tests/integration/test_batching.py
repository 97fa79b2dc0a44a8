"""Group commit (services/placing/group_commit.py): the same answers as one order per transaction,
in payment order, with nothing sold twice — on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tierstock.domain.allocation import units_held_twice
from tierstock.domain.errors import (
    DomainError,
    IdempotencyKeyReusedError,
    InsufficientStockError,
    PresaleEndedError,
)
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import catalogue, shops
from tierstock.services.placing import PlaceOrder
from tierstock.services.placing.group_commit import allocate_batch
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger
from tierstock.store.engine import make_engine

TIERED = SalesFormSpec(SalesForm.TIERED, 48, 5)


def _listed_sku(
    runtime: Runtime, spot: int, presale: int, form: SalesFormSpec = TIERED
) -> tuple[int, int]:
    shop = shops.create_shop(shops.CreateShop("批量店"), runtime.uow()).shop
    product = catalogue.create_product(catalogue.CreateProduct(shop.id, "爆款"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop.id, product.id, f"B-{shop.id}", 1000, form, spot_stock=spot, presale_stock=presale
        ),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop.id, product.id, True), runtime.uow())
    return shop.id, sku.id


def _order(shop: int, sku: int, key: str, qty: int = 1) -> PlaceOrder:
    return PlaceOrder(shop, key, (LineRequest(sku, qty),), buyer=key)


def _batched(runtime: Runtime) -> Runtime:
    return Runtime(runtime.engine, runtime.clock, batch_orders=True)


def test_a_batched_burst_sells_exactly_the_stock_and_no_unit_twice(runtime: Runtime) -> None:
    batched = _batched(runtime)
    shop, sku = _listed_sku(batched, spot=100, presale=400)
    rng = random.Random(5)
    wants = [rng.randint(1, 3) for _ in range(600)]

    def buy(i: int) -> int:
        try:
            return batched.place_order(_order(shop, sku, f"b-{i}", wants[i])).order.id
        except InsufficientStockError:
            return 0

    with ThreadPoolExecutor(64) as pool:
        ids = [i for i in pool.map(buy, range(600)) if i]
    with batched.uow(readonly=True) as uow:
        tiers = uow.stock.tiers([sku])[sku]
        lines = uow.orders.lines_of_sku(sku)
    assert len(ids) == len(set(ids)) == len(lines)
    assert tiers[Tier.PRESALE].sold <= 400 and tiers[Tier.SPOT].sold <= 100
    assert sum(ln.quantity for ln in lines) == tiers[Tier.SPOT].sold + tiers[Tier.PRESALE].sold
    for tier in Tier:
        held = [(ln.tier_sold_after, ln.quantity) for ln in lines if ln.tier == tier]
        assert units_held_twice(held) == 0
    spot_left = tiers[Tier.SPOT].available
    assert all(ln.quantity > spot_left for ln in lines if ln.tier == Tier.PRESALE)
    assert tiers[Tier.SPOT].available + tiers[Tier.PRESALE].available < 3 * 2
    assert verify_ledger(batched.uow(readonly=True), shop)[1] == []


def test_a_batch_allocates_in_payment_order_exactly_like_one_by_one(runtime: Runtime) -> None:
    shop, sku = _listed_sku(runtime, spot=5, presale=4)
    cmds = [_order(shop, sku, f"p-{i}", q) for i, q in enumerate([2, 2, 2, 1, 3, 1, 2])]
    now = runtime.clock()
    outcome = allocate_batch(cmds, [now] * len(cmds), runtime.uow())
    tiers = {i: s.line.tier for i, s in outcome.sales.items()}
    # spot 5: 2, 2 -> 1 left; the 2 goes presale (4 -> 2); the 1 takes the last spot unit;
    # the 3 does not fit presale (2 left) and is refused; the 1 goes presale; the 2 is refused
    assert tiers == {0: Tier.SPOT, 1: Tier.SPOT, 2: Tier.PRESALE, 3: Tier.SPOT, 5: Tier.PRESALE}
    assert set(outcome.refused) == {4, 6}
    assert all(isinstance(e, InsufficientStockError) for e in outcome.refused.values())
    assert verify_ledger(runtime.uow(readonly=True), shop)[1] == []


def test_a_retry_inside_or_after_a_batch_gets_the_same_order(runtime: Runtime) -> None:
    batched = _batched(runtime)
    shop, sku = _listed_sku(batched, spot=10, presale=0)
    with ThreadPoolExecutor(16) as pool:
        ids = set(
            pool.map(lambda _: batched.place_order(_order(shop, sku, "same")).order.id, range(16))
        )
    assert len(ids) == 1
    again = batched.place_order(_order(shop, sku, "same"))
    assert again.replayed and again.order.id in ids
    with pytest.raises(IdempotencyKeyReusedError):
        batched.place_order(_order(shop, sku, "same", qty=2))
    with batched.uow(readonly=True) as uow:
        assert uow.stock.tiers([sku])[sku][Tier.SPOT].sold == 1


def test_one_buyers_refusal_does_not_fail_the_others_in_its_batch(runtime: Runtime) -> None:
    shop, good = _listed_sku(runtime, spot=3, presale=0)
    shop2, stale = _listed_sku(
        runtime,
        spot=0,
        presale=3,
        form=SalesFormSpec(
            SalesForm.PRESALE, presale_ship_by=runtime.clock().date() + timedelta(days=10)
        ),
    )
    runtime.clock.now += timedelta(days=11)  # type: ignore[attr-defined]
    cmds = [
        _order(shop, good, "g1"),
        _order(shop2, stale, "s1"),
        _order(shop, good, "g2"),
        _order(shop, 999_999, "missing"),
    ]
    now = runtime.clock()
    outcome = allocate_batch(cmds, [now] * 4, runtime.uow())
    assert set(outcome.sales) == {0, 2}
    assert isinstance(outcome.refused[1], PresaleEndedError)
    assert isinstance(outcome.refused[3], DomainError)


def test_two_processes_racing_one_key_make_one_order(runtime: Runtime, database_url: str) -> None:
    """Two batchers (as in two server processes) see the key free and both try it: the
    loser's batch falls back to one-by-one and replays the winner's order."""
    shop, sku = _listed_sku(runtime, spot=50, presale=0)
    engines = [make_engine(database_url) for _ in range(2)]
    runtimes = [Runtime(e, runtime.clock, batch_orders=True) for e in engines]
    try:
        for round_no in range(10):
            key = f"race-{round_no}"
            with ThreadPoolExecutor(2) as pool:
                ids = set(
                    pool.map(
                        lambda r, k=key: r.place_order(_order(shop, sku, k)).order.id, runtimes
                    )
                )
            assert len(ids) == 1
    finally:
        for e in engines:
            e.dispose()
    with runtime.uow(readonly=True) as uow:
        assert uow.stock.tiers([sku])[sku][Tier.SPOT].sold == 10
    assert verify_ledger(runtime.uow(readonly=True), shop)[1] == []
