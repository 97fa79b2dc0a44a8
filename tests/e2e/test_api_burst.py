"""E2E over HTTP: a live-stream burst of concurrent buyers never oversells."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.conftest import ShopClient

BUYERS = 200
THREADS = 32
SPOT, PRESALE = 50, 50


def test_a_burst_of_200_concurrent_orders_sells_exactly_the_100_units_in_stock(
    shop: ShopClient,
    server_url: str,
) -> None:
    sku = shop.listed_sku(spot=SPOT, presale=PRESALE)
    limits = httpx.Limits(max_connections=THREADS, max_keepalive_connections=THREADS)

    with httpx.Client(
        base_url=server_url, headers={"X-API-Key": shop.key}, timeout=120, limits=limits
    ) as client:

        def buy(i: int) -> httpx.Response:
            return client.post(
                "/orders",
                json={"lines": [{"sku_id": sku["id"], "quantity": 1}], "buyer": f"观众{i}"},
                headers={"Idempotency-Key": f"burst-{i}-{uuid.uuid4().hex}"},
            )

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            responses = list(pool.map(buy, range(BUYERS)))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: SPOT + PRESALE, 409: BUYERS - SPOT - PRESALE}, statuses
    for r in responses:
        assert "Traceback" not in r.text
        if r.status_code == 409:
            assert r.json()["error"] == "insufficient_stock", r.text

    won = [r.json() for r in responses if r.status_code == 201]
    assert len({o["id"] for o in won}) == SPOT + PRESALE
    tiers = Counter(o["lines"][0]["tier"] for o in won)
    assert tiers == {"spot": SPOT, "presale": PRESALE}

    stock = shop.stock(sku["id"])
    assert stock["spot"] == {"tier": "spot", "quantity": SPOT, "sold": SPOT, "available": 0}
    assert stock["presale"] == {
        "tier": "presale",
        "quantity": PRESALE,
        "sold": PRESALE,
        "available": 0,
    }
    assert shop.card(sku["product_id"])["skus"][0]["next_unit_promise"]["text_en"] == "sold out"

    ledger = shop.get(f"/skus/{sku['id']}/ledger", params={"limit": 500}).json()
    sales = [e for e in ledger if e["kind"] == "sale"]
    assert len(sales) == SPOT + PRESALE
    assert {e["order_id"] for e in sales} == {o["id"] for o in won}
