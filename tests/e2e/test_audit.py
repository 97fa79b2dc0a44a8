"""The audit trail: who, when, what and why for every change, readable and exportable."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.conftest import ShopClient, assert_error


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


# --- newest first, public names, the shop's zone (issue 14) -------------------------------

SHOP_ZONE = ZoneInfo("Asia/Shanghai")


def _csv(r: httpx.Response) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_the_trail_lists_newest_first_in_json_and_in_csv(shop: ShopClient) -> None:
    for name in ("第一件", "第二件", "第三件"):
        shop.create_product(name)
    trail = shop.get("/audit").json()
    times = [datetime.fromisoformat(e["created_at"]) for e in trail]
    assert times == sorted(times, reverse=True)
    created = [e["detail"]["name"] for e in trail if e["action"] == "product.created"]
    assert created == ["第三件", "第二件", "第一件"]
    rows = _csv(shop.get("/audit/export.csv"))
    assert [r["created_at"] for r in rows] == [e["created_at"] for e in trail]
    assert shop.get("/audit", params={"limit": 1}).json() == trail[:1]  # the newest one


def test_an_order_line_is_named_by_its_order_and_line_number_never_an_internal_id(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=9, presale=0)
    shop.order([(sku["id"], 1), (sku["id"], 2)])  # line ids and order ids drift apart
    order = shop.order([(sku["id"], 1), (sku["id"], 1)]).json()
    later = datetime.fromisoformat(order["lines"][1]["ship_by"]) + timedelta(days=1)
    moved = shop.post(
        f"/orders/{order['id']}/lines/2/delays",
        json={
            "kind": "negotiated",
            "reason": "买家同意",
            "buyer_consent": True,
            "new_ship_by": later.isoformat(),
        },
    )
    assert moved.status_code == 201, moved.text

    trail = shop.get("/audit").json()
    deadline = next(e for e in trail if e["action"] == "deadline.negotiated")
    assert deadline["object_type"] == "order_line"
    assert deadline["object_id"] is None
    assert (deadline["order_id"], deadline["line_no"]) == (order["id"], 2)
    sales = [e for e in trail if e["action"] == "stock.sale" and e["order_id"] == order["id"]]
    assert sorted(e["line_no"] for e in sales) == [1, 2]
    product = next(e for e in trail if e["action"] == "product.created")
    assert product["object_id"] == sku["product_id"]
    assert product["order_id"] is None and product["line_no"] is None

    row = next(
        r for r in _csv(shop.get("/audit/export.csv")) if r["action"] == "deadline.negotiated"
    )
    assert (row["object_id"], row["order_id"], row["line_no"]) == ("", str(order["id"]), "2")


def test_every_time_in_the_trail_is_in_the_shops_zone_details_included(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=0)
    order = shop.order([(sku["id"], 1)]).json()
    later = datetime.fromisoformat(order["lines"][0]["ship_by"]) + timedelta(days=2)
    shop.post(
        f"/orders/{order['id']}/lines/1/delays",
        json={
            "kind": "negotiated",
            "reason": "晚两天",
            "buyer_consent": True,
            "new_ship_by": later.astimezone(UTC).isoformat(),
        },  # sent in UTC
    )
    moved = next(e for e in shop.get("/audit").json() if e["action"] == "deadline.negotiated")
    for stamp in (
        moved["created_at"],
        moved["detail"]["new_ship_by"],
        moved["detail"]["previous_ship_by"],
    ):
        assert stamp.endswith("+08:00"), stamp
    assert datetime.fromisoformat(moved["detail"]["new_ship_by"]) == later
    row = next(
        r for r in _csv(shop.get("/audit/export.csv")) if r["action"] == "deadline.negotiated"
    )
    assert row["created_at"].endswith("+08:00")
    assert '+08:00"' in row["detail"] and "+00:00" not in row["detail"]


def test_since_takes_a_plain_date_or_a_local_time_as_a_person_types_them(
    shop: ShopClient,
) -> None:
    shop.create_product("今天的新品")
    now = datetime.now(SHOP_ZONE)
    today, tomorrow = now.date(), now.date() + timedelta(days=1)
    a_minute_ago = (now - timedelta(minutes=1)).replace(tzinfo=None, microsecond=0)
    for path in ("/audit", "/audit/export.csv"):
        for since in (today.isoformat(), a_minute_ago.isoformat(), f"{today}T00:00:00"):
            r = shop.get(path, params={"since": since})
            assert r.status_code == 200, (path, since, r.text)
            assert "今天的新品" in r.content.decode("utf-8-sig"), (path, since)
        r = shop.get(path, params={"since": tomorrow.isoformat()})
        assert r.status_code == 200, r.text
        assert "今天的新品" not in r.content.decode("utf-8-sig")
    # an offset still counts as given: midnight UTC is 08:00 in the shop
    r = shop.get("/audit", params={"since": f"{tomorrow}T00:00:00Z"})
    assert r.json() == []


@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01",
        "9999-12-31",
        "1999-12-31T23:59:59Z",
        "2101-01-01",
        "2026-13-01",
        "2026-02-30",
        "0.5",
        "",
        "20261201",
        "2026-12-01T25:00",
    ],
)
def test_a_since_outside_the_years_or_not_a_date_is_422_naming_since(
    shop: ShopClient, since: str
) -> None:
    for path in ("/audit", "/audit/export.csv"):
        body = assert_error(shop.get(path, params={"since": since}), 422, field="since")
        assert "since" in body["message"]
    assert shop.get("/audit").status_code == 200  # and the connection is still good
