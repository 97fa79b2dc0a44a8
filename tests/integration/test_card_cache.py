"""The product card cache (services/card_cache.py) on SQLite and PostgreSQL.

Time is the test's ``clock``: the cache ages a card on the runtime's clock from its
``as_of``, so nothing here waits or measures speed. Rebuilds are counted by the cache
(``builds``) or by a loader that can hold a rebuild open until the test releases it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta

import pytest

from tests.integration.test_services import buy, new_sku, open_shop
from tierstock.domain.errors import NotFoundError
from tierstock.domain.sales_forms import Tier
from tierstock.services.card import ProductCard
from tierstock.services.card_cache import CARDS, CardCache, cached_product_card, load_card
from tierstock.services.runtime import Runtime

TTL = 0.5
VIEWERS = 16
WAIT_S = 30  # a safety net against a hung test, never a measured duration


def cached(runtime: Runtime, ttl: float = TTL) -> Runtime:
    return Runtime(runtime.engine, runtime.clock, card_cache_seconds=ttl)


def spot_left(card: ProductCard) -> int:
    (sku,) = card.skus
    return next(t.available for t in sku.tiers if t.tier is Tier.SPOT)


class GatedLoader:
    """The real loader, counting its calls; once ``hold()`` is called, the next call
    signals ``entered`` and waits for ``release`` (then fails if ``fail`` is set)."""

    def __init__(self) -> None:
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = False
        self._held = False
        self._lock = threading.Lock()

    def hold(self, *, fail: bool = False) -> None:
        self._held, self.fail = True, fail

    def __call__(self, runtime: Runtime, shop_id: int, product_id: int) -> ProductCard:
        with self._lock:
            self.calls += 1
            held, self._held = self._held, False
        if held:
            self.entered.set()
            assert self.release.wait(WAIT_S)
            if self.fail:
                raise ConnectionError("the database went away")
        return load_card(runtime, shop_id, product_id)


def test_a_cached_card_is_served_within_its_ttl_and_shows_a_sale_after_it(runtime, clock):
    shop = open_shop(runtime)
    product_id, sku_id = new_sku(runtime, shop, spot=10, presale=5)
    viewers = cached(runtime)
    before = CARDS.builds

    first = cached_product_card(viewers, shop, product_id)
    buy(runtime, shop, "k-1", (sku_id, 3))
    clock.now += timedelta(seconds=0.4)
    again = cached_product_card(viewers, shop, product_id)
    assert again is first
    assert spot_left(again) == 10
    assert again.as_of == first.as_of == clock.now - timedelta(seconds=0.4)

    clock.now += timedelta(seconds=0.1)
    fresh = cached_product_card(viewers, shop, product_id)
    assert spot_left(fresh) == 7
    assert fresh.as_of == clock.now
    assert CARDS.builds - before == 2


def test_a_ttl_of_zero_always_reads_the_database(runtime):
    shop = open_shop(runtime)
    product_id, sku_id = new_sku(runtime, shop, spot=10)
    cache = CardCache()
    assert runtime.card_cache_seconds == 0

    assert spot_left(cache.get(runtime, shop, product_id)) == 10
    buy(runtime, shop, "k-1", (sku_id, 4))
    assert spot_left(cache.get(runtime, shop, product_id)) == 6
    assert cache.builds == 2
    assert len(cache) == 0


def test_another_shop_is_refused_the_product_even_while_its_card_is_cached(runtime):
    mine, theirs = open_shop(runtime, "我的"), open_shop(runtime, "别人的")
    product_id, _ = new_sku(runtime, mine, spot=3)
    cache, viewers = CardCache(), cached(runtime)
    assert cache.get(viewers, mine, product_id).product.id == product_id

    for _ in range(2):
        with pytest.raises(NotFoundError):
            cache.get(viewers, theirs, product_id)
    assert len(cache) == 1
    assert cache.builds == 3  # each refusal was a read; none was stored


def test_a_stampede_on_an_expired_card_rebuilds_it_once_and_serves_the_previous_meanwhile(
    runtime, clock
):
    shop = open_shop(runtime)
    product_id, sku_id = new_sku(runtime, shop, spot=10)
    loader = GatedLoader()
    cache, viewers = CardCache(loader), cached(runtime)
    previous = cache.get(viewers, shop, product_id)
    buy(runtime, shop, "k-1", (sku_id, 1))
    clock.now += timedelta(seconds=TTL + 0.1)

    loader.hold()
    with ThreadPoolExecutor(VIEWERS) as pool:
        futures = [pool.submit(cache.get, viewers, shop, product_id) for _ in range(VIEWERS)]
        assert loader.entered.wait(WAIT_S)
        served = []
        for done in as_completed(futures, timeout=WAIT_S):  # all but the rebuilding one
            served.append(done.result())
            if len(served) == VIEWERS - 1:
                break
        assert loader.calls == 2  # the first read, then one rebuild for the whole stampede
        loader.release.set()
        results = [f.result(timeout=WAIT_S) for f in futures]

    assert all(card is previous for card in served)
    (rebuilt,) = [card for card in results if card is not previous]
    assert spot_left(rebuilt) == 9
    assert cache.get(viewers, shop, product_id) is rebuilt
    assert loader.calls == 2


def test_a_stampede_on_a_card_never_read_waits_for_one_build(runtime):
    shop = open_shop(runtime)
    product_id, _ = new_sku(runtime, shop, spot=10)
    loader = GatedLoader()
    cache, viewers = CardCache(loader), cached(runtime)

    loader.hold()
    with ThreadPoolExecutor(VIEWERS) as pool:
        futures = [pool.submit(cache.get, viewers, shop, product_id) for _ in range(VIEWERS)]
        assert loader.entered.wait(WAIT_S)
        loader.release.set()
        results = [f.result(timeout=WAIT_S) for f in futures]

    assert loader.calls == 1
    assert all(card is results[0] for card in results)


def test_a_card_older_than_twice_the_ttl_is_not_served_while_it_is_rebuilt(runtime, clock):
    shop = open_shop(runtime)
    product_id, sku_id = new_sku(runtime, shop, spot=10)
    loader = GatedLoader()
    cache, viewers = CardCache(loader), cached(runtime)
    previous = cache.get(viewers, shop, product_id)
    buy(runtime, shop, "k-1", (sku_id, 2))
    clock.now += timedelta(seconds=TTL + 0.1)

    loader.hold()
    with ThreadPoolExecutor(2) as pool:
        rebuilding = pool.submit(cache.get, viewers, shop, product_id)
        assert loader.entered.wait(WAIT_S)
        assert cache.get(viewers, shop, product_id) is previous  # within 2 × TTL
        clock.now += timedelta(seconds=TTL)
        late = pool.submit(cache.get, viewers, shop, product_id)
        loader.release.set()
        rebuilt = rebuilding.result(timeout=WAIT_S)

    assert spot_left(late.result(timeout=WAIT_S)) == 8
    assert spot_left(rebuilt) == 8


def test_a_failed_rebuild_is_not_cached_and_the_next_reader_loads_again(runtime, clock):
    shop = open_shop(runtime)
    product_id, _ = new_sku(runtime, shop, spot=10)
    loader = GatedLoader()
    cache, viewers = CardCache(loader), cached(runtime)

    loader.hold(fail=True)
    with ThreadPoolExecutor(2) as pool:
        failing = pool.submit(cache.get, viewers, shop, product_id)
        assert loader.entered.wait(WAIT_S)
        waiting = pool.submit(cache.get, viewers, shop, product_id)
        loader.release.set()
        with pytest.raises(ConnectionError):
            failing.result(timeout=WAIT_S)
        card = waiting.result(timeout=WAIT_S)

    assert spot_left(card) == 10
    assert loader.calls == 2
    assert cache.get(viewers, shop, product_id) is card


def test_past_its_bound_the_cache_drops_the_card_built_first(runtime):
    shop = open_shop(runtime)
    products = [new_sku(runtime, shop, spot=1, code=f"SKU-{n}")[0] for n in range(3)]
    cache, viewers = CardCache(max_entries=2), cached(runtime)

    for product_id in products:
        cache.get(viewers, shop, product_id)
    assert len(cache) == 2
    cache.get(viewers, shop, products[2])
    assert cache.builds == 3
    cache.get(viewers, shop, products[0])
    assert cache.builds == 4
