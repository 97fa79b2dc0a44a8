"""The Redis reservation front (services/placing/redis_front/) on PostgreSQL and a real Redis.

Every check is computed back from the database after the front is drained: units per
tier, the unit ranges each line holds, ship-by promises, the ledger, and the leases
reconciled with what Redis holds.
"""

from __future__ import annotations

import multiprocessing
import random
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tests.integration.test_burst import (
    SOLD_OUT,
    assert_never_oversold,
    assert_tiers_fill_in_order,
    listed_sku,
    open_shop,
    outcome,
)
from tierstock.domain.errors import (
    IdempotencyKeyReusedError,
    InsufficientStockError,
    InvalidValueError,
)
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import Tier
from tierstock.services.placing import PlaceOrder
from tierstock.services.placing.redis_front import admin as front_admin
from tierstock.services.placing.redis_front import lua as front_lua
from tierstock.services.placing.redis_front.fold import Folder, fold
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger

LEASE = 7  # small leases: a burst crosses many lease boundaries


def front_runtime(pg_url: str, redis_url: str, namespace: str, *, fold: bool) -> Runtime:
    runtime = Runtime.open(pg_url)
    runtime.attach_front(redis_url, LEASE, fold=fold, namespace=namespace)
    return runtime


@pytest.fixture()
def namespace() -> str:
    return f"test-{secrets.token_hex(4)}"


@pytest.fixture()
def fronted(postgresql_url: str, redis_url: str, namespace: str) -> Iterator[Runtime]:
    """A runtime whose single-line orders go through the front; no folder thread, so
    each test decides when the stream is folded."""
    runtime = front_runtime(postgresql_url, redis_url, namespace, fold=False)
    yield runtime
    assert runtime.front is not None
    front_admin.drain(runtime.front, wait_seconds=5)  # the database is shared by tests
    runtime.front.forget_everything()
    runtime.close()


def pay(runtime: Runtime, shop: int, key: str, sku: int, qty: int) -> int | str:
    try:
        return runtime.place_order(
            PlaceOrder(shop, key, (LineRequest(sku, qty),), buyer=key)
        ).order.id
    except InsufficientStockError:
        return SOLD_OUT


def drained(runtime: Runtime) -> front_admin.Drained:
    assert runtime.front is not None
    result = front_admin.drain(runtime.front, wait_seconds=5)
    assert result.void == []
    assert front_admin.status(runtime.front).leased_units == 0
    return result


def test_a_burst_through_the_front_sells_spot_then_presale_and_never_oversells(fronted):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-1", spot=100, presale=300)
    wants = [random.Random(7).choice([1, 1, 2, 3]) for _ in range(400)]
    assert fronted.front is not None
    folder = Folder(fronted.front)

    with ThreadPoolExecutor(64) as pool:
        results = list(
            pool.map(lambda i: pay(fronted, shop, f"b-{i}", sku, wants[i]), range(len(wants)))
        )
    fronted.front.wait_for_background()
    assert front_admin.reconcile(fronted.front) == []  # while reservations are unfolded
    folder.fold_all()
    drained(fronted)

    seen = outcome(fronted, shop, sku)
    assert_never_oversold(seen)
    assert_tiers_fill_in_order(seen, wants, results)
    assert seen.tiers[Tier.SPOT].sold == 100
    assert sum(wants[i] for i, r in enumerate(results) if r != SOLD_OUT) == sum(
        t.sold for t in seen.tiers.values()
    )


def test_the_answer_equals_the_order_the_fold_writes(fronted):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-2", spot=3, presale=10)
    answers = [
        fronted.place_order(PlaceOrder(shop, f"k{i}", (LineRequest(sku, 2),), buyer="阿梅"))
        for i in range(3)
    ]
    assert fronted.front is not None
    Folder(fronted.front).fold_all()

    with fronted.uow(readonly=True) as uow:
        stored = [uow.orders.get(shop, a.order.id) for a in answers]
    assert [s for s in stored] == [a.order for a in answers]
    assert [a.order.lines[0].tier for a in answers] == [Tier.SPOT, Tier.PRESALE, Tier.PRESALE]


def test_a_retry_replays_and_a_reused_key_is_refused(fronted):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-3", spot=5, presale=0)
    first = fronted.place_order(PlaceOrder(shop, "pay-1", (LineRequest(sku, 1),)))
    again = fronted.place_order(PlaceOrder(shop, "pay-1", (LineRequest(sku, 1),)))

    assert again.replayed and again.order == first.order
    with pytest.raises(IdempotencyKeyReusedError):
        fronted.place_order(PlaceOrder(shop, "pay-1", (LineRequest(sku, 2),)))
    assert fronted.front is not None
    Folder(fronted.front).fold_all()
    drained(fronted)
    assert outcome(fronted, shop, sku).tiers[Tier.SPOT].sold == 1


def test_a_folder_that_dies_mid_batch_loses_nothing_and_writes_nothing_twice(fronted):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-4", spot=50, presale=0)
    for i in range(20):
        pay(fronted, shop, f"b-{i}", sku, 1)
    front = fronted.front
    assert front is not None
    dead = Folder(front, name="dead")
    raw = front.redis.xreadgroup("fold", "dead", {front.key("stream"): ">"}, count=8)
    entries = [(i.decode(), {k.decode(): v.decode() for k, v in f.items()}) for i, f in raw[0][1]]
    fold(entries, fronted.uow())  # committed, then the process died before XACK
    del dead

    survivor = Folder(front, name="survivor")
    survivor.fold_all(claim_idle_ms=0)  # takes over the dead folder's entries

    assert len(outcome(fronted, shop, sku).lines) == 20
    assert front_admin.reconcile(front) == []
    drained(fronted)
    seen = outcome(fronted, shop, sku)
    assert_never_oversold(seen)
    assert seen.tiers[Tier.SPOT].sold == 20


def test_the_drain_gives_unsold_units_back_and_the_database_path_takes_over(fronted):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-5", spot=30, presale=0)
    pay(fronted, shop, "a", sku, 1)
    front = fronted.front
    assert front is not None
    assert front_admin.status(front).leased_units == LEASE  # a whole lease, one sold

    result = drained(fronted)
    assert result.released == LEASE - 1 and not front.is_on()
    assert outcome(fronted, shop, sku).tiers[Tier.SPOT].sold == 1

    after = fronted.place_order(PlaceOrder(shop, "b", (LineRequest(sku, 1),)))
    with fronted.uow(readonly=True) as uow:  # the database path wrote it at once
        assert uow.orders.get(shop, after.order.id) == after.order
    front.switch_on()
    pay(fronted, shop, "c", sku, 1)
    assert front_admin.status(front).leased_units == LEASE


def test_verify_finds_units_redis_lost_and_the_drain_gives_them_back(fronted):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-6", spot=30, presale=0)
    pay(fronted, shop, "a", sku, 1)
    front = fronted.front
    assert front is not None
    Folder(front).fold_all()
    run, run_leases, _queued, _dry = front.tier_keys(sku, Tier.SPOT)
    front.redis.delete(run, run_leases)  # Redis lost the lease being sold

    lost = front_admin.reconcile(front, attempts=1)
    assert [(x.outstanding, x.in_redis) for x in lost] == [(LEASE - 1, 0)]
    assert drained(fronted).recovered == LEASE - 1
    assert front_admin.reconcile(front, attempts=1) == []
    assert verify_ledger(fronted.uow(readonly=True), shop)[1] == []


def test_orders_the_front_does_not_take_go_to_the_database(fronted):
    shop = open_shop(fronted)
    a = listed_sku(fronted, shop, "FRONT-7A", spot=5, presale=0)
    b = listed_sku(fronted, shop, "FRONT-7B", spot=5, presale=0)
    both = fronted.place_order(
        PlaceOrder(shop, "two-lines", (LineRequest(a, 1), LineRequest(b, 1)))
    )
    with fronted.uow(readonly=True) as uow:
        assert uow.orders.get(shop, both.order.id) == both.order
    assert fronted.front is not None
    assert front_admin.status(fronted.front).open_leases == 0
    with pytest.raises(InsufficientStockError):
        fronted.place_order(PlaceOrder(shop, "too-many", (LineRequest(a, 5),)))


def test_the_front_refuses_sqlite(sqlite_url, redis_url):
    runtime = Runtime.open(sqlite_url)
    with pytest.raises(InvalidValueError) as refused:
        runtime.attach_front(redis_url, LEASE, fold=False)
    assert refused.value.field == "TIERSTOCK_REDIS_URL"
    runtime.close()


def _process_burst(args: tuple[str, str, str, int, int, int]) -> list[int | str]:
    pg_url, redis_url, namespace, shop, sku, proc = args
    runtime = front_runtime(pg_url, redis_url, namespace, fold=True)
    try:
        with ThreadPoolExecutor(8) as pool:
            return list(
                pool.map(lambda i: pay(runtime, shop, f"p{proc}-{i}", sku, 1 + i % 2), range(60))
            )
    finally:
        runtime.close()


def test_processes_racing_through_one_front_never_oversell(
    fronted, postgresql_url, redis_url, namespace
):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-8", spot=80, presale=200)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        per_process = pool.map(
            _process_burst, [(postgresql_url, redis_url, namespace, shop, sku, p) for p in range(4)]
        )
    assert fronted.front is not None
    drained(fronted)

    seen = outcome(fronted, shop, sku)
    assert_never_oversold(seen)
    sold = [r for rs in per_process for r in rs if r != SOLD_OUT]
    assert len(sold) == len(seen.lines) == len(set(sold))
    assert seen.tiers[Tier.SPOT].sold == 80


def test_orders_go_to_the_database_when_redis_is_unreachable(fronted):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-9", spot=5, presale=0)
    front = fronted.front
    assert front is not None
    working = front.redis, front._reserve
    front.redis = redis.Redis(port=1, socket_connect_timeout=0.2)  # nothing listens there
    front._reserve = front.redis.register_script(front_lua.RESERVE)
    try:
        placed = fronted.place_order(PlaceOrder(shop, "no-redis", (LineRequest(sku, 2),)))
    finally:
        front.redis, front._reserve = working

    with fronted.uow(readonly=True) as uow:  # the database path wrote it at once
        assert uow.orders.get(shop, placed.order.id) == placed.order
    assert outcome(fronted, shop, sku).tiers[Tier.SPOT].sold == 2


def test_a_redis_that_lost_its_scripts_still_sells_each_order_once(fronted):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-10", spot=5, presale=0)
    assert fronted.front is not None
    first = fronted.place_order(PlaceOrder(shop, "before", (LineRequest(sku, 1),)))
    fronted.front.redis.script_flush()  # e.g. Redis restarted with its data kept

    second = fronted.place_order(PlaceOrder(shop, "after", (LineRequest(sku, 1),)))
    Folder(fronted.front).fold_all()
    assert first.order.id != second.order.id
    assert len(outcome(fronted, shop, sku).lines) == 2


def test_an_entry_the_database_cannot_store_does_not_hold_up_the_others(fronted):
    shop = open_shop(fronted)
    sku = listed_sku(fronted, shop, "FRONT-11", spot=10, presale=0)
    front = fronted.front
    assert front is not None
    good = fronted.place_order(PlaceOrder(shop, "good", (LineRequest(sku, 1),)))
    bad = fronted.place_order(PlaceOrder(shop, "bad", (LineRequest(sku, 1),)))
    stream = front.key("stream")
    for entry_id, fields in front.text_redis.xrange(stream):  # a corrupted hand-off
        if fields["o"] == str(bad.order.id):
            front.redis.xdel(stream, entry_id)
            front.redis.xadd(stream, {**fields, "b": "nul \x00 byte", "hb": "1"})

    Folder(front).fold_all()

    assert front.redis.xlen(stream) == 0
    with fronted.uow(readonly=True) as uow:
        assert uow.orders.get(shop, good.order.id) == good.order
        assert uow.orders.get(shop, bad.order.id) is None
    lost = front_admin.reconcile(front, attempts=1)
    assert [x.outstanding - x.in_redis for x in lost] == [1]  # the dropped unit
    assert drained(fronted).recovered == 1
    assert outcome(fronted, shop, sku).tiers[Tier.SPOT].sold == 1


def test_a_database_created_again_under_its_name_gets_a_front_of_its_own(postgresql_url, redis_url):
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tests.conftest import _admin_engine

    name = f"tierstock_front_{secrets.token_hex(4)}"
    url = make_url(postgresql_url).set(database=name).render_as_string(hide_password=False)
    admin = _admin_engine()
    prefixes = []
    try:
        for _ in range(2):
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            runtime = Runtime.open(url)
            runtime.attach_front(redis_url, LEASE, fold=False)
            assert runtime.front is not None
            prefixes.append(runtime.front.prefix)
            runtime.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    assert prefixes[0] != prefixes[1]  # the old answers and leases in Redis stay unseen
