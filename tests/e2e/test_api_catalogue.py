"""E2E over HTTP: OpenAPI, catalogue, sales-form rules, listing lifecycle, auth."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Api, ShopClient, assert_error

SPECS = {"颜色": "酒红色", "尺码": "XL（加大码）", "材质": "真丝 100%"}
NAME = "法式碎花连衣裙·夏季新款"


# --- documentation --------------------------------------------------------------------


def test_openapi_schema_is_served_at_openapi_json(api: Api) -> None:
    r = api.anon.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"] == "tierstock"
    for path in (
        "/shops",
        "/products",
        "/products/{product_id}/skus",
        "/products/{product_id}/card",
        "/skus/{sku_id}/sales-form",
        "/skus/{sku_id}/stock",
        "/skus/{sku_id}/ledger",
        "/orders",
        "/orders/{order_id}/cancel",
    ):
        assert path in doc["paths"], path


def test_interactive_docs_are_served_at_docs(api: Api) -> None:
    r = api.anon.get("/docs")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "openapi.json" in r.text


def test_health_answers_ok(api: Api) -> None:
    r = api.anon.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


# --- catalogue --------------------------------------------------------------------------


def test_creating_a_shop_returns_its_api_key_once(api: Api) -> None:
    r = api.anon.post("/shops", json={"name": "快乐小店"})
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "快乐小店"
    assert body["policy"] == "kuaishou"
    assert body["api_key"]
    me = httpx.get(f"{api.base_url}/shops/me", headers={"X-API-Key": body["api_key"]})
    assert me.status_code == 200
    assert me.json()["id"] == body["id"]
    assert "api_key" not in me.json()


def test_product_and_sku_with_chinese_names_and_specs_round_trip_exactly(
    shop: ShopClient,
) -> None:
    product = shop.create_product(NAME, service_promises=["seven_day_return"])
    assert product["name"] == NAME
    assert product["listed"] is False
    assert product["service_promises"] == ["seven_day_return"]

    sku = shop.add_sku(
        product["id"],
        code="红-XL",
        price_fen=12_990,
        specs=SPECS,
        sales_form={"form": "spot", "spot_window_hours": 48},
        spot_stock=7,
    )
    assert sku["code"] == "红-XL"
    assert sku["specs"] == SPECS
    assert sku["price_fen"] == 12_990
    assert isinstance(sku["price_fen"], int)
    assert sku["price_yuan"] == "129.90"
    assert sku["sales_form"]["form"] == "spot"
    assert sku["sales_form"]["spot_window_hours"] == 48

    shop.list_product(product["id"])
    card = shop.card(product["id"])
    assert card["product"]["name"] == NAME
    (on_card,) = card["skus"]
    assert on_card["specs"] == SPECS
    assert on_card["code"] == "红-XL"
    assert on_card["price_fen"] == 12_990
    assert on_card["available"] == 7

    listed = shop.get("/products").json()
    assert [p["name"] for p in listed["data"]] == [NAME]


def test_a_price_in_yuan_with_decimals_is_refused_because_price_is_integer_fen(
    shop: ShopClient,
) -> None:
    product = shop.create_product()
    r = shop.post(
        f"/products/{product['id']}/skus",
        json={
            "code": "A",
            "price_fen": 129.9,
            "sales_form": {"form": "spot", "spot_window_hours": 48},
        },
    )
    assert_error(r, 422, field="price_fen")


# --- sales-form rules (Kuaishou pack) ----------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field_suffix", "allowed"),
    [
        ({"form": "spot", "spot_window_hours": 36}, "spot_window_hours", ["24", "48", "72"]),
        (
            {"form": "tiered", "spot_window_hours": 36, "presale_days": 5},
            "spot_window_hours",
            ["24", "48", "72"],
        ),
        ({"form": "presale", "presale_days": 91}, "presale_days", ["4", "90"]),
        ({"form": "presale", "presale_days": 3}, "presale_days", ["4", "90"]),
        (
            {"form": "tiered", "spot_window_hours": 48, "presale_days": 6},
            "presale_days",
            ["3", "5"],
        ),
    ],
    ids=[
        "spot-window-36",
        "tiered-spot-window-36",
        "presale-91-days",
        "presale-3-days",
        "tiered-presale-6-days",
    ],
)
def test_an_invalid_sales_form_value_gets_422_naming_the_field_and_allowed_values(
    shop: ShopClient,
    form: dict[str, object],
    field_suffix: str,
    allowed: list[str],
) -> None:
    product = shop.create_product()
    r = shop.post(
        f"/products/{product['id']}/skus", json={"code": "A", "price_fen": 100, "sales_form": form}
    )
    body = assert_error(r, 422)
    assert body["field"].endswith(field_suffix), body
    for value in allowed:
        assert value in body["message"], body
    assert shop.card(product["id"])["skus"] == []


def test_an_unknown_sales_form_gets_422_naming_the_form_field(shop: ShopClient) -> None:
    product = shop.create_product()
    r = shop.post(
        f"/products/{product['id']}/skus",
        json={"code": "A", "price_fen": 100, "sales_form": {"form": "bogus"}},
    )
    body = assert_error(r, 422, field="sales_form.form")
    for form in ("spot", "presale", "tiered"):
        assert form in body["message"], body


def test_an_unknown_sales_form_in_a_form_change_gets_422_naming_the_form_field(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku()
    shop.delist_product(sku["product_id"])
    r = shop.put(f"/skus/{sku['id']}/sales-form", json={"form": "bogus"})
    body = assert_error(r, 422)
    assert body["field"] in ("form", "sales_form.form"), body


# --- delist → change → relist -----------------------------------------------------------


def test_changing_the_form_of_a_listed_sku_is_refused_with_409_telling_to_delist_first(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku()
    r = shop.put(f"/skus/{sku['id']}/sales-form", json={"form": "spot", "spot_window_hours": 24})
    body = assert_error(r, 409, error="listed_product_form_change")
    assert "delist" in body["message"].lower()
    card = shop.card(sku["product_id"])
    assert card["skus"][0]["sales_form"]["form"] == "tiered"
    assert card["product"]["listed"] is True


def test_delisting_changing_the_form_and_relisting_works(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=4, presale=4)
    shop.delist_product(sku["product_id"])

    r = shop.put(f"/skus/{sku['id']}/sales-form", json={"form": "spot", "spot_window_hours": 24})
    assert r.status_code == 200, r.text
    assert r.json()["sales_form"] == {
        "form": "spot",
        "spot_window_hours": 24,
        "presale_days": None,
        "presale_ship_by": None,
    }

    shop.list_product(sku["product_id"])
    card = shop.card(sku["product_id"])
    assert card["product"]["listed"] is True
    assert card["skus"][0]["sales_form"]["form"] == "spot"
    assert card["skus"][0]["next_unit_promise"]["text_en"] == "ships within 24 h"

    placed = shop.order([(sku["id"], 1)])
    assert placed.status_code == 201, placed.text
    assert placed.json()["lines"][0]["tier"] == "spot"


def test_a_delisted_product_cannot_be_bought(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5)
    shop.delist_product(sku["product_id"])
    r = shop.order([(sku["id"], 1)])
    assert_error(r, 409, error="product_not_listed")
    assert shop.available(sku["id"])["spot"] == 5


# --- authentication and shop isolation -------------------------------------------------


def test_a_request_without_an_api_key_gets_401(api: Api) -> None:
    r = api.anon.get("/products")
    assert_error(r, 401, error="unauthorized", field="X-API-Key")
    r = api.anon.post(
        "/orders", json={"lines": [{"sku_id": 1, "quantity": 1}]}, headers={"Idempotency-Key": "k"}
    )
    assert r.status_code == 401


def test_a_request_with_a_wrong_api_key_gets_401(api: Api) -> None:
    r = api.anon.get("/products", headers={"X-API-Key": "ts_not-a-real-key"})
    assert_error(r, 401, error="unauthorized")


def test_another_shops_key_gets_404_for_this_shops_product_sku_and_order(api: Api) -> None:
    mine = api.new_shop("我的店")
    other = api.new_shop("别人的店")
    sku = mine.listed_sku(spot=5, presale=5, product_name="秘密新品")
    placed = mine.order([(sku["id"], 1)], buyer="张三")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    pid, sid = sku["product_id"], sku["id"]

    attempts = [
        other.get(f"/products/{pid}/card"),
        other.post(f"/products/{pid}/delist"),
        other.post(
            f"/products/{pid}/skus",
            json={
                "code": "X",
                "price_fen": 1,
                "sales_form": {"form": "spot", "spot_window_hours": 48},
            },
        ),
        other.get(f"/skus/{sid}/stock"),
        other.get(f"/skus/{sid}/ledger"),
        other.post(f"/skus/{sid}/stock/receipts", json={"quantity": 5}),
        other.put(f"/skus/{sid}/stock/spot", json={"available": 0}),
        other.put(f"/skus/{sid}/sales-form", json={"form": "spot", "spot_window_hours": 24}),
        other.get(f"/orders/{order_id}"),
        other.post(f"/orders/{order_id}/cancel"),
        other.post(f"/orders/{order_id}/lines/1/cancel"),
        other.order([(sid, 1)]),
    ]
    for r in attempts:
        assert_error(r, 404)
        assert "秘密新品" not in r.text and "张三" not in r.text, r.text
    assert other.get("/products").json()["count"] == 0

    # nothing the other shop tried changed anything here
    assert mine.available(sid) == {"spot": 4, "presale": 5}
    assert mine.card(pid)["product"]["listed"] is True
    assert mine.get(f"/orders/{order_id}").json()["lines"][0]["status"] == "paid"
