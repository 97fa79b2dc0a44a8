"""The audit trail: who, when, what and why for every change, readable and exportable."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from tests.e2e.conftest import ShopClient


def test_catalogue_listing_form_and_stock_changes_are_in_the_trail_with_who(
    shop: ShopClient,
) -> None:
    operator = shop.post("/keys", json={"role": "operator", "label": "主播助理"}).json()
    sku = shop.listed_sku(spot=3, presale=0)
    as_operator = {"X-API-Key": operator["api_key"]}
    assert (
        shop.http.post(f"/products/{sku['product_id']}/delist", headers=as_operator).status_code
        == 200
    )
    changed = shop.http.put(
        f"/skus/{sku['id']}/sales-form",
        headers=as_operator,
        json={"form": "spot", "spot_window_hours": 72},
    )
    assert changed.status_code == 200
    shop.put(f"/skus/{sku['id']}/stock/spot", json={"available": 0, "reason": "断货"})

    trail = shop.get("/audit").json()
    actions = [e["action"] for e in trail]
    for expected in (
        "product.created",
        "sku.created",
        "product.listed",
        "product.delisted",
        "sku.sales_form_changed",
        "stock.set_stock",
        "key.created",
    ):
        assert expected in actions
    form_change = next(e for e in trail if e["action"] == "sku.sales_form_changed")
    assert form_change["actor"] == f"shop{shop.id}:operator#key{operator['id']}"
    assert form_change["detail"]["before"]["form"] == "tiered"
    assert form_change["detail"]["after"] == {
        "form": "spot",
        "spot_window_hours": 72,
        "presale_days": None,
        "presale_ship_by": None,
    }
    stock_set = next(e for e in trail if e["action"] == "stock.set_stock")
    assert stock_set["reason"] == "断货"
    assert stock_set["detail"]["quantity_delta"] == -3
    assert form_change["created_at"].endswith("+08:00")


def test_the_trail_exports_as_csv_that_keeps_chinese_text(shop: ShopClient) -> None:
    shop.create_product("加厚羽绒服")
    r = shop.get("/audit/export.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert any("加厚羽绒服" in row["detail"] for row in rows)
    assert {"created_at", "actor", "action", "reason"} <= set(rows[0])


def test_a_shop_never_sees_another_shops_trail(shop: ShopClient, api) -> None:
    shop.create_product("秘密新品")
    other = api.new_shop("隔壁")
    assert "秘密新品" not in other.get("/audit").text


def test_deadline_moves_shipments_and_compensation_are_in_the_trail(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=0)
    order = shop.order([(sku["id"], 1)]).json()
    later = datetime.fromisoformat(order["lines"][0]["ship_by"]) + timedelta(days=2)
    delay = shop.post(
        f"/orders/{order['id']}/lines/1/delays",
        json={
            "kind": "negotiated",
            "reason": "买家同意晚两天",
            "buyer_consent": True,
            "new_ship_by": later.isoformat(),
        },
    )
    assert delay.status_code == 201, delay.text
    unshippable = shop.post(
        f"/orders/{order['id']}/lines/1/unshippable", json={"reason": "工厂断货"}
    )
    assert unshippable.status_code == 200, unshippable.text

    trail = shop.get("/audit").json()
    moved = next(e for e in trail if e["action"] == "deadline.negotiated")
    assert moved["reason"] == "买家同意晚两天"
    assert moved["actor"].startswith(f"shop{shop.id}:owner")
    assert datetime.fromisoformat(moved["detail"]["new_ship_by"]) == later
    owed = next(e for e in trail if e["action"] == "compensation.unshipped")
    assert owed["detail"]["amount_fen"] >= 500
    assert "stock.cancel" in {e["action"] for e in trail}
