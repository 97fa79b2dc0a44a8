"""Stock counts over HTTP against the real server, on SQLite and PostgreSQL (issue 4)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import Api, ShopClient, assert_error

SPOT = {"form": "spot", "spot_window_hours": 48}


@pytest.fixture(autouse=True)
def _counts_wired(api: Api) -> None:
    paths = api.anon.get("/openapi.json").json()["paths"]
    if "/counts" not in paths or "/events" not in paths:
        pytest.skip("the counts and events routers are not included in api/main.py yet")


def _sku(shop: ShopClient, spot: int) -> dict[str, Any]:
    return shop.listed_sku(spot=spot, presale=0, sales_form=SPOT)


def _key(shop: ShopClient, role: str) -> dict[str, str]:
    r = shop.post("/keys", json={"role": role, "label": f"{role} key"})
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["api_key"]}


def _open(shop: ShopClient, **body: Any) -> dict[str, Any]:
    r = shop.post("/counts", json=body)
    assert r.status_code == 201, r.text
    opened: dict[str, Any] = r.json()
    return opened


def test_a_count_is_entered_reported_exported_and_approved(shop: ShopClient) -> None:
    cup, bowl = _sku(shop, 10), _sku(shop, 5)
    count = _open(shop, note="月底盘点")
    assert (count["warehouse"], count["status"], count["sku_ids"]) == ("main", "open", None)
    assert shop.order([(cup["id"], 3)]).status_code == 201  # sold, not shipped: still here

    r = shop.post(
        f"/counts/{count['id']}/entries",
        json={
            "entries": [
                {"sku_code": cup["code"], "counted": 7, "location": "A-01", "unit_cost_fen": 800},
                {"sku_code": bowl["code"], "counted": 5, "counter": "小王"},
            ]
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"count_id": count["id"], "saved": 2, "refused": []}

    report = shop.get(f"/counts/{count['id']}/variance").json()
    assert [(s["sku_code"], s["system_on_hand"], s["variance"]) for s in report["skus"]] == [
        (cup["code"], 10, -3),
        (bowl["code"], 5, 0),
    ]
    assert (report["skus_off"], report["share_off"]) == (1, 0.5)
    assert (report["net_value_fen"], report["net_value_yuan"]) == (-2_400, "-24.00")

    xlsx = shop.get(f"/counts/{count['id']}/variance.xlsx")
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["content-type"]
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert ws["A2"].value == cup["code"] and ws["F2"].value == -3

    done = shop.post(f"/counts/{count['id']}/approve", json={"reason": "月底"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["count"]["status"] == "approved" and body["flagged_skus"] == []
    [adj] = body["adjustments"]
    assert (adj["quantity_delta"], adj["quantity"], adj["sold"]) == (-3, 7, 3)
    assert shop.available(cup["id"])["spot"] == 4
    ledger = shop.get(f"/skus/{cup['id']}/ledger").json()
    assert any(e["kind"] == "adjustment" and e["quantity_delta"] == -3 for e in ledger)

    events = shop.get("/events").json()
    assert [e["topic"] for e in events] == ["stock.adjusted", "count.approved"]
    assert shop.get("/events", params={"after": events[0]["id"]}).json() == events[1:]


def test_counting_below_promised_stock_names_the_orders_at_risk(shop: ShopClient) -> None:
    coat = _sku(shop, 4)
    orders = [shop.order([(coat["id"], 2)]).json()["id"] for _ in range(2)]
    count = _open(shop, sku_ids=[coat["id"]])
    shop.post(
        f"/counts/{count['id']}/entries",
        json={"entries": [{"sku_code": coat["code"], "counted": 1}]},
    )
    body = shop.post(f"/counts/{count['id']}/approve").json()
    assert body["flagged_skus"] == [coat["code"]]
    assert body["affected_orders"] == sorted(orders)
    assert body["adjustments"][0]["shortfall"] == 3
    assert shop.stock(coat["id"])["spot"]["quantity"] == 4  # never below sold
    short = shop.get("/events", params={"topic": "stock.short_of_promises"}).json()
    assert short[0]["payload"]["affected_orders"] == sorted(orders)


def test_a_bad_entry_refuses_the_batch_with_every_row_named(shop: ShopClient) -> None:
    sku = _sku(shop, 5)
    count = _open(shop)
    r = shop.post(
        f"/counts/{count['id']}/entries",
        json={
            "entries": [
                {"sku_code": sku["code"], "counted": 4},
                {"sku_code": "NO-SUCH", "counted": 1},
                {"sku_code": sku["code"], "counted": 2},
            ]
        },
    )
    body = assert_error(r, 422, error="invalid_count_rows", field="entries[0].sku_code")
    assert "row 2" in body["message"] and "NO-SUCH" in body["message"]
    assert "rows 1, 3" in body["message"]
    assert shop.get(f"/counts/{count['id']}/variance").json()["skus"] == []
    kept = shop.post(
        f"/counts/{count['id']}/entries",
        json={
            "accept_good_rows": True,
            "entries": [
                {"sku_code": sku["code"], "counted": 4},
                {"sku_code": "NO-SUCH", "counted": 1},
            ],
        },
    )
    assert kept.status_code == 200 and kept.json()["saved"] == 1
    assert kept.json()["refused"][0]["row"] == 2
    assert_error(
        shop.post(
            f"/counts/{count['id']}/entries",
            json={"entries": [{"sku_code": sku["code"], "counted": -1}]},
        ),
        422,
        field="entries[0].counted",
    )


def test_only_the_owner_or_the_warehouse_approve_and_one_count_is_open(
    shop: ShopClient, api: Api
) -> None:
    _sku(shop, 5)
    count = _open(shop)
    assert_error(shop.post("/counts", json={}), 409, error="count_already_open")
    assert_error(shop.post("/counts", json={"warehouse": "north"}), 422, field="warehouse")
    path = f"/counts/{count['id']}/approve"
    for role in ("operator", "viewer", "supplier"):
        assert_error(shop.post(path, headers=_key(shop, role)), 403)
    assert shop.get("/events", headers=_key(shop, "viewer")).status_code == 200
    other = api.new_shop("别人的店")
    assert_error(other.post(path), 404, field="count_id")
    assert_error(other.get(f"/counts/{count['id']}/variance"), 404)
    assert shop.post(path, headers=_key(shop, "warehouse")).status_code == 200
    assert_error(shop.post(path), 409, error="count_not_open")
