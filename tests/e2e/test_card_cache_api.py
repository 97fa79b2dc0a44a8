"""E2E: GET /products/{id}/card through the card cache of a real server.

The server here caches cards for a minute (``TIERSTOCK_CARD_CACHE_SECONDS=60``), far
longer than the test runs, so what is cached is certain without waiting on a clock.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Api, ShopClient, assert_error
from tierstock.testing import served

CACHE_SECONDS = "60"


@pytest.fixture(scope="module")
def cached_api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    log = tmp_path_factory.mktemp("cached-server") / "serve.log"
    with served(database_url, log, env={"TIERSTOCK_CARD_CACHE_SECONDS": CACHE_SECONDS}) as (
        base,
        _,
    ):
        api = Api(base)
        yield api
        api.close()


def test_a_cached_card_keeps_its_as_of_while_orders_still_allocate_from_the_database(
    cached_api: Api,
) -> None:
    shop = cached_api.new_shop("缓存小店")
    sku = shop.listed_sku(spot=2, presale=0)
    first = shop.card(sku["product_id"])
    assert first["skus"][0]["available"] == 2

    assert shop.order([(sku["id"], 2)]).status_code == 201
    again = shop.card(sku["product_id"])
    assert again == first  # same figures, same as_of: the viewer can tell its age

    refused = shop.order([(sku["id"], 1)])  # the card still shows 2: it cannot oversell
    assert_error(refused, 409, error="insufficient_stock")
    assert shop.available(sku["id"]) == {"spot": 0, "presale": 0}


def test_a_cached_card_is_refused_to_another_shop(cached_api: Api) -> None:
    mine: ShopClient = cached_api.new_shop("我的店")
    theirs = cached_api.new_shop("别人的店")
    sku = mine.listed_sku(spot=1)
    assert mine.card(sku["product_id"])["product"]["id"] == sku["product_id"]

    for _ in range(2):
        assert_error(theirs.get(f"/products/{sku['product_id']}/card"), 404)
