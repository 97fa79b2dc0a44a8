"""E2E over HTTP: bad input always gets a 4xx JSON refusal in the error shape.

Never a 500, never a traceback, and nothing changes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api, ShopClient, assert_error

SPOT = {"form": "spot", "spot_window_hours": 48}


@pytest.fixture()
def sku(shop: ShopClient) -> dict[str, Any]:
    return shop.listed_sku(spot=5, presale=5)


def _unchanged(shop: ShopClient, sku: dict[str, Any]) -> None:
    assert shop.available(sku["id"]) == {"spot": 5, "presale": 5}
    assert shop.get(f"/skus/{sku['id']}/ledger").json()[-1]["kind"] == "receipt"


# --- malformed JSON and bodies that are not objects --------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"lines": [{"sku_id": 1, "quantity": 1}',
        b"{'lines': []}",
        b"not json at all",
        b"",
        b"\xff\xfe\x00garbage",
    ],
    ids=["truncated", "single-quotes", "plain-text", "empty", "not-utf8"],
)
def test_a_malformed_json_order_gets_422_in_the_error_shape(
    shop: ShopClient,
    sku: dict[str, Any],
    raw: bytes,
) -> None:
    r = shop.post(
        "/orders",
        content=raw,
        headers={"Content-Type": "application/json", "Idempotency-Key": "k-bad"},
    )
    assert_error(r, 422)
    _unchanged(shop, sku)


@pytest.mark.parametrize("path", ["/shops", "/products"])
def test_malformed_json_on_create_endpoints_gets_422(shop: ShopClient, path: str) -> None:
    r = shop.post(
        path, content='{"name": "半截'.encode(), headers={"Content-Type": "application/json"}
    )
    assert_error(r, 422)


@pytest.mark.parametrize(
    "body", [[1, 2, 3], "a string", 42, None], ids=["array", "string", "number", "null"]
)
def test_a_body_that_is_not_an_object_gets_422(shop: ShopClient, body: object) -> None:
    r = shop.post("/products", json=body)
    assert_error(r, 422)
    assert shop.get("/products").json()["count"] == 0


def test_a_json_body_sent_as_plain_text_gets_a_4xx_in_the_error_shape(
    shop: ShopClient,
    sku: dict[str, Any],
) -> None:
    r = shop.post(
        "/orders",
        content=b'{"lines": [{"sku_id": 1, "quantity": 1}]}',
        headers={"Content-Type": "text/plain", "Idempotency-Key": "k-text"},
    )
    assert_error(r)
    _unchanged(shop, sku)


# --- wrong types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"sku_id": "abc", "quantity": 1}, "lines[0].sku_id"),
        ({"sku_id": None, "quantity": 1}, "lines[0].sku_id"),
        ({"quantity": 1}, "lines[0].sku_id"),
        ({"sku_id": "SKU", "quantity": "two"}, "lines[0].sku_id"),
        ({"sku_id": 0, "quantity": [1]}, "lines[0].sku_id"),
        ("SKU-1", "lines[0]"),
    ],
    ids=[
        "sku-id-text",
        "sku-id-null",
        "sku-id-missing",
        "both-text",
        "quantity-list",
        "line-not-object",
    ],
)
def test_an_order_line_of_the_wrong_type_gets_422_naming_the_field(
    shop: ShopClient,
    sku: dict[str, Any],
    line: object,
    field: str,
) -> None:
    r = shop.post("/orders", json={"lines": [line]}, headers={"Idempotency-Key": "k-types"})
    assert_error(r, 422, field=field)
    _unchanged(shop, sku)


@pytest.mark.parametrize(
    ("quantity", "field"),
    [
        ("two", "lines[0].quantity"),
        (1.5, "lines[0].quantity"),
        (None, "lines[0].quantity"),
    ],
    ids=["text", "fraction", "null"],
)
def test_an_order_quantity_of_the_wrong_type_gets_422(
    shop: ShopClient,
    sku: dict[str, Any],
    quantity: object,
    field: str,
) -> None:
    r = shop.post(
        "/orders",
        json={"lines": [{"sku_id": sku["id"], "quantity": quantity}]},
        headers={"Idempotency-Key": "k-qty-type"},
    )
    assert_error(r, 422, field=field)
    _unchanged(shop, sku)


@pytest.mark.parametrize("lines", [None, {}, "all", []], ids=["null", "object", "text", "empty"])
def test_order_lines_that_are_not_a_non_empty_list_get_422(
    shop: ShopClient,
    sku: dict[str, Any],
    lines: object,
) -> None:
    r = shop.post("/orders", json={"lines": lines}, headers={"Idempotency-Key": "k-lines"})
    assert_error(r, 422, field="lines")
    _unchanged(shop, sku)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"price_fen": "很多"}, "price_fen"),
        ({"price_fen": None}, "price_fen"),
        ({"code": 12}, "code"),
        ({"specs": ["红", "M"]}, "specs"),
        ({"specs": {"颜色": {"name": "红"}}}, "specs.颜色"),
        ({"sales_form": "spot"}, "sales_form"),
        (
            {"sales_form": {"form": "spot", "spot_window_hours": "48小时"}},
            "sales_form.spot_window_hours",
        ),
        ({"spot_stock": "lots"}, "spot_stock"),
    ],
    ids=[
        "price-text",
        "price-null",
        "code-number",
        "specs-list",
        "spec-value-object",
        "form-text",
        "window-text",
        "stock-text",
    ],
)
def test_a_sku_field_of_the_wrong_type_gets_422_naming_it(
    shop: ShopClient,
    fields: dict[str, object],
    field: str,
) -> None:
    product = shop.create_product()
    body = {"code": "A", "price_fen": 100, "sales_form": SPOT, **fields}
    r = shop.post(f"/products/{product['id']}/skus", json=body)
    assert_error(r, 422, field=field)
    assert shop.card(product["id"])["skus"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/orders/abc",
        "/orders/1.5",
        "/skus/abc/stock",
        "/products/十/card",
    ],
)
def test_a_non_numeric_id_in_the_path_gets_422(shop: ShopClient, path: str) -> None:
    assert_error(shop.get(path), 422)


def test_an_unknown_tier_in_the_path_gets_422(shop: ShopClient, sku: dict[str, Any]) -> None:
    r = shop.put(f"/skus/{sku['id']}/stock/gold", json={"available": 1})
    assert_error(r, 422, field="tier")
    _unchanged(shop, sku)


BIG_ID_REQUESTS = {
    "get-order": lambda shop, big: shop.get(f"/orders/{big}"),
    "get-stock": lambda shop, big: shop.get(f"/skus/{big}/stock"),
    "get-card": lambda shop, big: shop.get(f"/products/{big}/card"),
    "place-order": lambda shop, big: shop.order([(big, 1)]),
}


@pytest.mark.parametrize("big", [2**63], ids=["2^63"])
@pytest.mark.parametrize("request_name", list(BIG_ID_REQUESTS))
def test_an_id_too_large_for_the_database_gets_a_4xx_not_a_500(
    api: Api,
    request_name: str,
    big: int,
) -> None:
    # its own connection: the server drops a connection after a 500, and that must not
    # break the next test's request on a shared keep-alive connection
    reply = api.anon.post("/shops", json={"name": "大数字"})
    shop = ShopClient(api.base_url, reply.json())
    try:
        r = BIG_ID_REQUESTS[request_name](shop, big)
    finally:
        shop.close()
    assert 400 <= r.status_code < 500, f"{request_name} with id {big}: {r.status_code} {r.text}"
    assert_error(r)


# --- negative and out-of-range numbers ---------------------------------------------------


@pytest.mark.parametrize("quantity", [-1, 0, -(10**9)], ids=["minus-one", "zero", "minus-1e9"])
def test_a_negative_or_zero_order_quantity_gets_422(
    shop: ShopClient,
    sku: dict[str, Any],
    quantity: int,
) -> None:
    r = shop.order([(sku["id"], quantity)])
    assert_error(r, 422, field="lines[0].quantity")
    _unchanged(shop, sku)


def test_a_quantity_above_the_per_line_limit_gets_422(
    shop: ShopClient,
    sku: dict[str, Any],
) -> None:
    r = shop.order([(sku["id"], 1000)])
    assert_error(r, 422, field="lines[0].quantity")
    _unchanged(shop, sku)


def test_a_negative_receipt_or_stock_figure_gets_422(shop: ShopClient, sku: dict[str, Any]) -> None:
    sid = sku["id"]
    assert_error(
        shop.post(f"/skus/{sid}/stock/receipts", json={"quantity": -5}), 422, field="quantity"
    )
    assert_error(
        shop.post(f"/skus/{sid}/stock/receipts", json={"quantity": 0}), 422, field="quantity"
    )
    assert_error(
        shop.put(f"/skus/{sid}/stock/spot", json={"available": -1}), 422, field="available"
    )
    _unchanged(shop, sku)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"price_fen": -100}, "price_fen"),
        ({"price_fen": 0}, "price_fen"),
        ({"spot_stock": -1}, "spot_stock"),
        ({"presale_stock": -3}, "presale_stock"),
    ],
    ids=["price-negative", "price-zero", "spot-negative", "presale-negative"],
)
def test_a_negative_price_or_opening_stock_gets_422(
    shop: ShopClient,
    fields: dict[str, object],
    field: str,
) -> None:
    product = shop.create_product()
    body = {"code": "A", "price_fen": 100, "sales_form": SPOT, **fields}
    assert_error(shop.post(f"/products/{product['id']}/skus", json=body), 422, field=field)


# --- unknown fields ---------------------------------------------------------------------


def test_an_unknown_field_on_a_product_gets_422_naming_it(shop: ShopClient) -> None:
    r = shop.post("/products", json={"name": "连衣裙", "colour": "red"})
    assert_error(r, 422, field="colour")
    assert shop.get("/products").json()["count"] == 0


def test_an_unknown_field_in_an_order_or_its_line_gets_422_naming_it(
    shop: ShopClient,
    sku: dict[str, Any],
) -> None:
    r = shop.post(
        "/orders",
        json={"lines": [{"sku_id": sku["id"], "quantity": 1}], "discount_fen": 500},
        headers={"Idempotency-Key": "k-extra"},
    )
    assert_error(r, 422, field="discount_fen")
    r = shop.order([{"sku_id": sku["id"], "quantity": 1, "price_fen": 1}])
    assert_error(r, 422, field="lines[0].price_fen")
    _unchanged(shop, sku)


def test_a_field_of_another_sales_form_gets_422_naming_it(shop: ShopClient) -> None:
    product = shop.create_product()
    r = shop.post(
        f"/products/{product['id']}/skus",
        json={
            "code": "A",
            "price_fen": 100,
            "sales_form": {"form": "spot", "spot_window_hours": 48, "presale_days": 5},
        },
    )
    assert_error(r, 422, field="sales_form.presale_days")


def test_an_unknown_field_on_a_stock_change_gets_422(shop: ShopClient, sku: dict[str, Any]) -> None:
    r = shop.post(f"/skus/{sku['id']}/stock/receipts", json={"quantity": 1, "warehouse": "A"})
    assert_error(r, 422, field="warehouse")
    _unchanged(shop, sku)


# --- unknown routes and methods ----------------------------------------------------------


def test_an_unknown_route_or_method_gets_a_4xx_in_the_error_shape(api: Api) -> None:
    assert_error(api.anon.get("/no-such-thing"), 404)
    assert_error(api.anon.delete("/health"), 405)
