"""Retried writes: the same key and body give the first answer; nothing happens twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.conftest import ShopClient


def _receive(shop: ShopClient, sku_id: int, quantity: int, key: str) -> httpx.Response:
    return shop.post(
        f"/skus/{sku_id}/stock/receipts",
        # a spot receipt names its evidence (docs/rules.md §3.5)
        json={"quantity": quantity, "supplier": "工厂", "delivery_note": f"DN-{key}"},
        headers={"Idempotency-Key": key},
    )


def test_a_retried_receipt_returns_the_first_answer_and_adds_stock_once(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=0, presale=0)
    first = _receive(shop, sku["id"], 7, "receipt-2026-11-26-01")
    again = _receive(shop, sku["id"], 7, "receipt-2026-11-26-01")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert shop.available(sku["id"])["spot"] == 7


def test_the_same_key_with_a_different_body_is_refused_and_changes_nothing(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=0, presale=0)
    _receive(shop, sku["id"], 7, "k-1")
    other = _receive(shop, sku["id"], 8, "k-1")
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    assert other.json()["field"] == "Idempotency-Key"
    assert shop.available(sku["id"])["spot"] == 7


def test_json_spacing_and_key_order_do_not_make_a_different_body(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=0, presale=0)
    path = f"/skus/{sku['id']}/stock/receipts"
    a = shop.post(
        path,
        content=b'{"quantity": 3, "reason": "truck 1", "supplier": "s", "delivery_note": "n"}',
        headers={"Idempotency-Key": "k-2", "content-type": "application/json"},
    )
    b = shop.post(
        path,
        content=b'{"delivery_note":"n","supplier":"s","reason":"truck 1","quantity":3}',
        headers={"Idempotency-Key": "k-2", "content-type": "application/json"},
    )
    assert a.status_code == b.status_code == 200
    assert shop.available(sku["id"])["spot"] == 3


def test_concurrent_retries_of_one_receipt_apply_it_once(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=0, presale=0)
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: _receive(shop, sku["id"], 5, "k-3"), range(10)))
    statuses = {r.status_code for r in answers}
    assert statuses <= {200, 409}, [r.text for r in answers]
    assert all(
        r.json()["error"] == "idempotency_answer_pending" for r in answers if r.status_code == 409
    )
    assert shop.available(sku["id"])["spot"] == 5
    settled = _receive(shop, sku["id"], 5, "k-3")
    assert settled.status_code == 200
    assert settled.json()["quantity"] == 5


def test_a_failed_write_does_not_use_up_its_key(shop: ShopClient) -> None:
    """A refusal is not stored: after fixing the cause, the same key goes through."""
    sku = shop.listed_sku(spot=1, presale=0)
    form = {"form": "spot", "spot_window_hours": 24}
    refused = shop.put(
        f"/skus/{sku['id']}/sales-form", json=form, headers={"Idempotency-Key": "form-1"}
    )
    assert refused.status_code == 409
    shop.delist_product(sku["product_id"])
    done = shop.put(
        f"/skus/{sku['id']}/sales-form", json=form, headers={"Idempotency-Key": "form-1"}
    )
    assert done.status_code == 200
    assert done.json()["sales_form"]["form"] == "spot"


def test_keys_are_per_shop(shop: ShopClient, api) -> None:
    other = api.new_shop("隔壁")
    mine = shop.listed_sku(spot=0, presale=0)
    theirs = other.listed_sku(spot=0, presale=0)
    assert _receive(shop, mine["id"], 2, "shared-key").status_code == 200
    assert _receive(other, theirs["id"], 4, "shared-key").status_code == 200
    assert other.available(theirs["id"])["spot"] == 4


def test_an_oversized_body_gets_413_in_the_error_shape(shop: ShopClient) -> None:
    r = shop.post(
        "/products",
        content=b'{"name": "' + b"x" * (2 << 20) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"] == "body_too_large"
