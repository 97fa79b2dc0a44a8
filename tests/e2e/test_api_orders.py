"""E2E over HTTP: stock, orders, idempotency, tiers, cancels, the card's promise, ledger."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.e2e.conftest import ShopClient, assert_error

CHINA = timedelta(hours=8)


def _time(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    assert t.utcoffset() == CHINA, f"{text} is not in +08:00"
    return t


# --- stock ----------------------------------------------------------------------------


def test_stock_is_read_per_tier(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=3, presale=7)
    r = shop.get(f"/skus/{sku['id']}/stock")
    assert r.status_code == 200
    body = r.json()
    assert body["sku_id"] == sku["id"]
    assert body["tiers"] == [
        {"tier": "spot", "quantity": 3, "sold": 0, "available": 3},
        {"tier": "presale", "quantity": 7, "sold": 0, "available": 7},
    ]


def test_receiving_stock_adds_sellable_units_to_the_tier(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=2, presale=0)
    r = shop.post(
        f"/skus/{sku['id']}/stock/receipts",
        json={
            "tier": "spot",
            "quantity": 5,
            "reason": "到货 一车",
            "supplier": "义乌工厂",  # a spot receipt names its evidence (docs/rules.md §3.5)
            "delivery_note": "SH-001",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"tier": "spot", "quantity": 7, "sold": 0, "available": 7}
    r = shop.post(f"/skus/{sku['id']}/stock/receipts", json={"tier": "presale", "quantity": 4})
    assert r.status_code == 200, r.text
    assert shop.available(sku["id"]) == {"spot": 7, "presale": 4}
    assert shop.card(sku["product_id"])["skus"][0]["available"] == 11


def test_stock_set_to_zero_keeps_the_product_listed_but_sold_out_and_unbuyable(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=5, presale=5)
    for tier in ("spot", "presale"):
        r = shop.put(
            f"/skus/{sku['id']}/stock/{tier}", json={"available": 0, "reason": "盘点后清零"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["available"] == 0

    card = shop.card(sku["product_id"])
    assert card["product"]["listed"] is True
    (on_card,) = card["skus"]
    assert on_card["available"] == 0
    assert on_card["next_unit_promise"]["text_en"] == "sold out"
    assert on_card["next_unit_promise"]["text_zh"] == "已售罄"
    assert on_card["next_unit_promise"]["tier"] is None

    r = shop.order([(sku["id"], 1)])
    body = assert_error(r, 409, error="insufficient_stock")
    assert body["field"] == "lines[0].quantity"
    assert shop.available(sku["id"]) == {"spot": 0, "presale": 0}


def test_setting_stock_keeps_units_already_promised_to_buyers(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=0)
    assert shop.order([(sku["id"], 2)]).status_code == 201
    # raising spot without evidence: the owner's override, with a reason (docs/rules.md §3.5)
    r = shop.put(
        f"/skus/{sku['id']}/stock/spot",
        json={"available": 10, "override": True, "reason": "样品补上架"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"tier": "spot", "quantity": 12, "sold": 2, "available": 10}


# --- placing orders -------------------------------------------------------------------


def test_an_order_with_an_idempotency_key_is_created_in_spot_with_ship_by_48_h_after_payment(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=5, presale=5, price_fen=12_990)
    r = shop.order([(sku["id"], 2)], key="pay-0001", buyer="李四")
    assert r.status_code == 201, r.text
    assert "Idempotent-Replayed" not in r.headers
    order = r.json()
    assert order["buyer"] == "李四"
    assert order["total_fen"] == 25_980
    (line,) = order["lines"]
    assert line["line_no"] == 1
    assert line["sku_id"] == sku["id"]
    assert line["quantity"] == 2
    assert line["tier"] == "spot"
    assert line["status"] == "paid"
    assert line["unit_price_fen"] == 12_990
    assert line["paid_fen"] == 25_980
    paid_at, ship_by = _time(order["paid_at"]), _time(line["ship_by"])
    assert ship_by - paid_at == timedelta(hours=48)
    assert shop.available(sku["id"]) == {"spot": 3, "presale": 5}

    fetched = shop.get(f"/orders/{order['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == order


def test_retrying_with_the_same_key_and_body_replays_the_order_without_taking_stock(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=5, presale=5)
    first = shop.order([(sku["id"], 2)], key="pay-retry", buyer="王五")
    assert first.status_code == 201, first.text
    after_first = shop.stock(sku["id"])

    for _ in range(2):
        again = shop.order([(sku["id"], 2)], key="pay-retry", buyer="王五")
        assert again.status_code == 200, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        assert again.json() == first.json()
    assert shop.stock(sku["id"]) == after_first
    assert shop.available(sku["id"]) == {"spot": 3, "presale": 5}
    sales = [e for e in shop.get(f"/skus/{sku['id']}/ledger").json() if e["kind"] == "sale"]
    assert len(sales) == 1


def test_the_same_key_with_a_different_body_gets_422(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=5)
    assert shop.order([(sku["id"], 1)], key="pay-x").status_code == 201
    r = shop.order([(sku["id"], 3)], key="pay-x")
    assert_error(r, 422, error="idempotency_key_reused", field="Idempotency-Key")
    assert shop.available(sku["id"]) == {"spot": 4, "presale": 5}


def test_an_order_without_an_idempotency_key_gets_422_naming_the_header(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=5, presale=5)
    r = shop.order([(sku["id"], 1)], key=None)
    body = assert_error(r, 422, field="Idempotency-Key")
    assert "Idempotency-Key" in body["message"]
    assert shop.available(sku["id"]) == {"spot": 5, "presale": 5}


def test_a_blank_or_overlong_idempotency_key_gets_422(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=5)
    for key in ("", "k" * 201):
        r = shop.order([(sku["id"], 1)], key=key)
        assert_error(r, 422, field="Idempotency-Key")
    assert shop.available(sku["id"]) == {"spot": 5, "presale": 5}


def test_a_line_goes_to_presale_once_spot_cannot_hold_it_whole(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=3, presale=10)
    big = shop.order([(sku["id"], 5)])
    assert big.status_code == 201, big.text
    (line,) = big.json()["lines"]
    assert line["tier"] == "presale"
    assert _time(line["ship_by"]) - _time(big.json()["paid_at"]) == timedelta(days=5)
    assert shop.available(sku["id"]) == {"spot": 3, "presale": 5}

    fits = shop.order([(sku["id"], 3)])
    assert fits.json()["lines"][0]["tier"] == "spot"
    after_spot = shop.order([(sku["id"], 1)])
    assert after_spot.json()["lines"][0]["tier"] == "presale"
    assert shop.available(sku["id"]) == {"spot": 0, "presale": 4}

    too_many = shop.order([(sku["id"], 5)])
    assert_error(too_many, 409, error="insufficient_stock")
    assert shop.available(sku["id"]) == {"spot": 0, "presale": 4}


def test_an_order_that_cannot_be_filled_whole_takes_nothing(shop: ShopClient) -> None:
    a = shop.listed_sku(spot=5, presale=0)
    b = shop.listed_sku(spot=1, presale=0)
    r = shop.order([(a["id"], 2), (b["id"], 2)])
    assert_error(r, 409, error="insufficient_stock", field="lines[1].quantity")
    assert shop.available(a["id"])["spot"] == 5
    assert shop.available(b["id"])["spot"] == 1


# --- cancelling -----------------------------------------------------------------------


def test_cancelling_a_line_and_then_the_order_returns_units_to_their_tiers(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=3, presale=10)
    r = shop.order([(sku["id"], 2), (sku["id"], 2)])
    assert r.status_code == 201, r.text
    order = r.json()
    assert [ln["tier"] for ln in order["lines"]] == ["spot", "presale"]
    assert shop.available(sku["id"]) == {"spot": 1, "presale": 8}

    r = shop.post(f"/orders/{order['id']}/lines/2/cancel")
    assert r.status_code == 200, r.text
    assert [ln["status"] for ln in r.json()["lines"]] == ["paid", "cancelled"]
    assert shop.available(sku["id"]) == {"spot": 1, "presale": 10}

    r = shop.post(f"/orders/{order['id']}/cancel")
    assert r.status_code == 200, r.text
    assert [ln["status"] for ln in r.json()["lines"]] == ["cancelled", "cancelled"]
    assert shop.available(sku["id"]) == {"spot": 3, "presale": 10}
    stock = shop.stock(sku["id"])
    assert stock["spot"]["sold"] == 0 and stock["presale"]["sold"] == 0


def test_cancelling_twice_gets_409_and_returns_nothing_twice(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=3, presale=3)
    order = shop.order([(sku["id"], 1)]).json()
    assert shop.post(f"/orders/{order['id']}/cancel").status_code == 200
    assert_error(shop.post(f"/orders/{order['id']}/cancel"), 409, error="already_cancelled")
    assert_error(shop.post(f"/orders/{order['id']}/lines/1/cancel"), 409, error="already_cancelled")
    assert shop.available(sku["id"]) == {"spot": 3, "presale": 3}


def test_cancelling_a_line_that_does_not_exist_gets_404(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=3, presale=3)
    order = shop.order([(sku["id"], 1)]).json()
    assert_error(shop.post(f"/orders/{order['id']}/lines/9/cancel"), 404)
    assert_error(shop.post("/orders/987654/cancel"), 404)
    assert_error(shop.get("/orders/987654"), 404)


# --- the product card's promise -------------------------------------------------------


def test_the_card_promises_48_h_then_a_presale_date_after_spot_sells_out(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=2, presale=3)
    promise = shop.card(sku["product_id"])["skus"][0]["next_unit_promise"]
    assert promise["tier"] == "spot"
    assert promise["text_en"] == "ships within 48 h"
    assert promise["text_zh"] == "48小时内发货"

    assert shop.order([(sku["id"], 2)]).json()["lines"][0]["tier"] == "spot"

    card = shop.card(sku["product_id"])
    on_card = card["skus"][0]
    promise = on_card["next_unit_promise"]
    assert promise["tier"] == "presale"
    ship_by = _time(promise["ship_by"])
    assert ship_by - _time(card["as_of"]) == timedelta(days=5)
    assert promise["text_en"] == f"ships by {ship_by.day} {ship_by:%b}"
    assert promise["text_zh"] == f"{ship_by.month}月{ship_by.day}日前发货"
    assert on_card["available"] == 3
    assert {t["tier"]: t["available"] for t in on_card["tiers"]} == {"spot": 0, "presale": 3}

    assert shop.order([(sku["id"], 3)]).json()["lines"][0]["tier"] == "presale"
    promise = shop.card(sku["product_id"])["skus"][0]["next_unit_promise"]
    assert promise["text_en"] == "sold out"


def test_the_card_and_the_stock_endpoint_agree(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=4, presale=6)
    shop.order([(sku["id"], 3)])
    shop.order([(sku["id"], 2)])
    on_card = shop.card(sku["product_id"])["skus"][0]
    assert {t["tier"]: t for t in on_card["tiers"]} == shop.stock(sku["id"])
    assert on_card["available"] == 5


# --- ledger ---------------------------------------------------------------------------


def test_the_ledger_lists_one_row_per_change_with_actor_and_reason(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=4, presale=2)
    sid = sku["id"]
    shop.post(
        f"/skus/{sid}/stock/receipts",
        json={"quantity": 3, "reason": "到货 第二批", "supplier": "工厂", "delivery_note": "DN-2"},
    )
    shop.put(f"/skus/{sid}/stock/spot", json={"available": 5, "reason": "盘点 差异"})
    order = shop.order([(sid, 2)]).json()
    shop.post(f"/orders/{order['id']}/cancel")

    r = shop.get(f"/skus/{sid}/ledger")
    assert r.status_code == 200
    rows = r.json()
    assert [(e["kind"], e["tier"], e["quantity_delta"], e["sold_delta"]) for e in rows] == [
        ("receipt", "spot", 4, 0),
        ("receipt", "presale", 2, 0),
        ("receipt", "spot", 3, 0),
        ("set_stock", "spot", -2, 0),
        ("sale", "spot", 0, 2),
        ("cancel", "spot", 0, -2),
    ]
    assert [e["reason"] for e in rows[2:4]] == ["到货 第二批", "盘点 差异"]
    for e in rows:
        assert e["actor"].startswith(f"shop{shop.id}:owner"), e
        assert e["reason"], e
        _time(e["created_at"])
    assert (rows[4]["order_id"], rows[4]["line_no"]) == (order["id"], 1)
    assert (rows[5]["order_id"], rows[5]["line_no"]) == (order["id"], 1)

    # the figures equal the ledger's sums
    stock = shop.stock(sid)
    for tier in ("spot", "presale"):
        mine = [e for e in rows if e["tier"] == tier]
        assert stock[tier]["quantity"] == sum(e["quantity_delta"] for e in mine)
        assert stock[tier]["sold"] == sum(e["sold_delta"] for e in mine)
