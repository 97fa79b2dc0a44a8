"""POST /plans over HTTP against the served app, on SQLite and PostgreSQL (SPEC §8).

A tiered SKU (48 h spot, 5-day presale, ¥199) with 10 spot and 20 presale units; the
session starts at 10:00 Shanghai on 26 Nov 2026 and 40 one-unit buyers come one a minute.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api, ShopClient, assert_error

START = "2026-11-26T10:00:00+08:00"


@pytest.fixture(autouse=True)
def _plans_wired(api: Api) -> None:
    if "/plans" not in api.anon.get("/openapi.json").json()["paths"]:
        pytest.skip("the plans router is not included in api/main.py yet")


def body(sku_id: int, **extra: Any) -> dict[str, Any]:
    return {"sku_id": sku_id, "buyers": 40, "starts_at": START,
            "curve": {"shape": "flat", "duration_minutes": 40}, **extra}


def test_a_plan_says_when_spot_sells_out_and_what_buyers_are_promised(
        shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=10, presale=20)
    r = shop.post("/plans", json=body(sku["id"], slip_days=1))
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["spot"] == {"lines": 10, "units": 10, "sold_out_minute": 9,
                            "sold_out_at": "2026-11-26T10:09:00+08:00"}
    assert plan["presale"]["lines"] == 20 and plan["presale"]["sold_out_minute"] == 29
    assert plan["refused"] == {"buyers": 10, "units": 10}
    assert [(p["tier"], p["ship_by_date"], p["lines"]) for p in plan["promises"]] == [
        ("spot", "2026-11-28", 10), ("presale", "2026-12-01", 20)]
    # one batch at the window's edge slipping a day: 20 lines late × 10 % of ¥199
    assert plan["risk"]["at_risk_lines"] == 20
    assert plan["risk"]["compensation_fen"] == 20 * 1_990
    assert plan["share"]["after"] == {"spot_lines": 10, "paid_lines": 30, "percent": "33.33 %"}
    assert plan["share"]["eligible_after"] is False
    assert plan["share"]["spot_needed"] == 28


def test_the_series_has_one_value_per_minute_for_the_charts(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=10, presale=20)
    series = shop.post("/plans", json=body(sku["id"])).json()["series"]
    assert set(series) == {"minute", "buyers", "orders", "spot_units", "presale_units",
                           "refused", "spot_left", "presale_left"}
    assert all(len(column) == 40 for column in series.values())
    assert series["spot_left"][8:11] == [1, 0, 0]
    assert series["presale_left"][-1] == 0 and series["refused"][-1] == 1


def test_explicit_batches_price_exactly_the_lines_of_the_batch_that_slips(
        shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=10, presale=0)
    batches = [{"quantity": 10, "ready_on": "2026-11-28"},
               {"quantity": 10, "ready_on": "2026-12-01"}]
    risk = shop.post("/plans", json=body(sku["id"], batches=batches, slip_days=3)).json()["risk"]
    assert [(b["lines"], b["unshipped_lines"]) for b in risk["batches"]] == [(10, 0), (10, 10)]
    assert risk["compensation_fen"] == 10 * 5_970  # 30 % of ¥199
    assert risk["compensation_yuan"] == "597.00"


def test_the_same_seed_gives_the_same_plan(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=30, presale=40)
    mixed = body(sku["id"], quantities=[{"quantity": 1, "weight": 5},
                                        {"quantity": 2, "weight": 3},
                                        {"quantity": 3, "weight": 2}])
    first = shop.post("/plans", json={**mixed, "seed": 7}).json()
    assert shop.post("/plans", json={**mixed, "seed": 7}).json() == first
    others = [shop.post("/plans", json={**mixed, "seed": s}).json() for s in (8, 9, 10, 11)]
    assert any(o["series"] != first["series"] for o in others)


def test_a_past_sessions_order_log_is_replayed(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=3, presale=0)
    log = "paid_at,quantity\n2026-11-20T20:00:05+08:00,2\n2026-11-20T20:00:40+08:00,2\n" \
          "2026-11-20T20:02:00+08:00,1\n"
    r = shop.post("/plans", json={"sku_id": sku["id"], "order_log": log, "starts_at": START})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["series"]["buyers"] == [2, 0, 1]
    assert plan["refused"]["buyers"] == 1 and plan["spot"]["sold_out_minute"] == 2


def test_a_plan_changes_no_stock(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=10, presale=20)
    before = shop.stock(sku["id"])
    assert shop.post("/plans", json=body(sku["id"], buyers=5_000)).status_code == 200
    assert shop.stock(sku["id"]) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"buyers": 1_000_001}, "buyers"),
    ({"batches": [{"quantity": 1, "ready_on": "2026-12-01"}] * 101}, "batches"),
    ({"curve": {"points": [{"minute": 0, "share": 1}] * 1_441}}, "curve.points"),
    ({"curve": {"points": [{"minute": 1_440, "share": 1}]}}, "curve.points[0].minute"),
    ({"curve": {"shape": "flat", "points": [{"minute": 0, "share": 1}]}}, "curve"),
    ({"curve": {"shape": "tsunami"}}, "curve.shape"),
    ({"slip_days": -1}, "slip_days"),
    ({"quantities": [{"quantity": 1_000, "weight": 1}]}, "quantities"),
    ({"sales_form": {"form": "tiered", "spot_window_hours": 47, "presale_days": 5}},
     "sales_form.spot_window_hours"),
    ({"order_log": "paid_at,quantity\n2026-11-20T20:00:00,1\nyesterday,2\n"}, "order_log"),
    ({"current_share": {"spot_lines": 5}}, "current_share.paid_lines"),
    ({"current_share": {"spot_lines": 5, "paid_lines": 4}}, "spot_lines"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_plan_request_is_refused_with_the_field_named(
        shop: ShopClient, change: dict[str, Any], field: str) -> None:
    sku = shop.listed_sku(spot=1, presale=1)
    assert_error(shop.post("/plans", json={**body(sku["id"]), **change}), 422, field=field)


def test_a_plan_without_sku_or_form_names_what_is_missing(shop: ShopClient) -> None:
    assert_error(shop.post("/plans", json={"buyers": 5}), 422, field="sales_form")


def test_another_shops_sku_is_not_found_and_no_key_is_unauthorised(
        api: Api, shop: ShopClient) -> None:
    sku = shop.listed_sku()
    other = api.new_shop("别人的店")
    assert_error(other.post("/plans", json=body(sku["id"])), 404, field="sku_id")
    assert_error(api.anon.post("/plans", json=body(sku["id"])), 401)
