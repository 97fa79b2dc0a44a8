"""Supplier capacity over HTTP against the real server, on SQLite and PostgreSQL (issue 4,
docs/rules.md §5): the merchant plans, the supplier's own key confirms, presale sells only what
is confirmed with the batch's promise, another supplier gets 404, receiving moves the
rest to spot, a shrink shows the promises at risk."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import Api, ShopClient, assert_error

SH = ZoneInfo("Asia/Shanghai")
TIERED = {"form": "tiered", "spot_window_hours": 48, "presale_days": 5}


@pytest.fixture(autouse=True)
def _capacity_wired(api: Api) -> None:
    paths = api.anon.get("/openapi.json").json()["paths"]
    if "/suppliers" not in paths:
        pytest.skip("the capacity router is not included in api/main.py yet")


def _day(ahead: int) -> date:
    return datetime.now(SH).date() + timedelta(days=ahead)


def _promise(ready_on: date) -> datetime:
    """End of the ready day + 1 handling day (the Kuaishou pack), Shanghai time."""
    return datetime.combine(ready_on, time(23, 59, 59), tzinfo=SH) + timedelta(days=1)


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _key(shop: ShopClient, role: str, **extra: Any) -> dict[str, str]:
    made = _ok(shop.post("/keys", json={"role": role, "label": role, **extra}), 201)
    return {"X-API-Key": made["api_key"]}


def _supplier(shop: ShopClient, name: str) -> tuple[int, dict[str, str]]:
    supplier = _ok(shop.post("/suppliers", json={"name": name}), 201)
    return supplier["id"], _key(shop, "supplier", supplier_id=supplier["id"])


def _plan(shop: ShopClient, sku_id: int, supplier_id: int, *plans: tuple[int, date]) -> list[int]:
    made = _ok(
        shop.post(
            f"/skus/{sku_id}/capacity",
            json={
                "supplier_id": supplier_id,
                "batches": [{"quantity": q, "ready_on": d.isoformat()} for q, d in plans],
            },
        ),
        201,
    )
    assert [b["status"] for b in made] == ["proposed"] * len(plans)
    return [b["id"] for b in made]


def test_the_supplier_confirms_its_own_plan_and_presale_ships_by_its_batch(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=1, presale=0, sales_form=TIERED)
    factory, factory_key = _supplier(shop, "宁波工厂")
    rival, rival_key = _supplier(shop, "义乌工厂")
    soon, later = _day(1), _day(2)
    a, b = _plan(shop, sku["id"], factory, (2, soon), (2, later))
    assert {s["name"] for s in _ok(shop.get("/suppliers"))} == {"宁波工厂", "义乌工厂"}

    assert [x["id"] for x in _ok(shop.get("/supplier/batches", headers=factory_key))] == [a, b]
    assert _ok(shop.get("/supplier/batches", headers=rival_key)) == []
    for path in (f"/capacity/{a}/confirm", f"/capacity/{a}/decline"):
        assert_error(shop.post(path, headers=rival_key), 404, error="not_found")
    assert_error(
        shop.post(
            f"/capacity/{a}/revise",
            headers=rival_key,
            json={"quantity": 1, "ready_on": soon.isoformat()},
        ),
        404,
    )
    assert_error(shop.post(f"/capacity/{a}/confirm", headers=_key(shop, "operator")), 403)
    assert_error(shop.get(f"/skus/{sku['id']}/capacity", headers=factory_key), 403)

    assert shop.order([(sku["id"], 1)]).status_code == 201  # the spot unit
    assert_error(shop.order([(sku["id"], 1)]), 409, error="insufficient_stock")
    confirmed = _ok(
        shop.post(f"/capacity/{a}/confirm", headers=factory_key, json={"note": "已排产"})
    )
    assert confirmed["batch"]["status"] == "confirmed" and confirmed["at_risk"] == []
    _ok(shop.post(f"/capacity/{b}/confirm", headers=factory_key))
    assert shop.available(sku["id"])["presale"] == 4

    lines = [_ok(shop.order([(sku["id"], q)]), 201)["lines"][0] for q in (1, 2)]
    assert [datetime.fromisoformat(x["ship_by"]) for x in lines] == [
        _promise(soon),
        _promise(later),
    ]
    shared = _ok(shop.get("/supplier/batches", headers=factory_key))
    assert [(x["promised"], x["pace"]["units_sold"]) for x in shared] == [(2, 3), (1, 3)]
    view = _ok(shop.get(f"/skus/{sku['id']}/capacity"))
    assert [(x["id"], x["promised"]) for x in view["batches"]] == [(a, 2), (b, 1)]
    assert [h["action"] for h in view["batches"][0]["history"]] == ["proposed", "confirmed"]
    assert view["batches"][0]["history"][1]["note"] == "已排产"
    (theirs,) = _plan(shop, sku["id"], rival, (1, later))
    assert_error(shop.post(f"/capacity/{theirs}/decline", headers=factory_key), 404)
    assert [x["id"] for x in _ok(shop.get("/supplier/batches", headers=rival_key))] == [theirs]


def test_a_batch_beyond_the_presale_window_refuses_the_order(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=0, presale=0, sales_form=TIERED)
    factory, key = _supplier(shop, "远方工厂")
    (batch,) = _plan(shop, sku["id"], factory, (5, _day(5)))
    _ok(shop.post(f"/capacity/{batch}/confirm", headers=key))
    assert_error(
        shop.order([(sku["id"], 1)]), 409, error="capacity_beyond_window", field="lines[0].quantity"
    )
    assert shop.stock(sku["id"])["presale"]["sold"] == 0


def test_a_shrunk_batch_shows_its_promises_at_risk_and_receiving_moves_the_rest_to_spot(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=0, presale=0, sales_form=TIERED)
    factory, key = _supplier(shop, "宁波工厂")
    a, b = _plan(shop, sku["id"], factory, (2, _day(1)), (3, _day(2)))
    for batch in (a, b):
        _ok(shop.post(f"/capacity/{batch}/confirm", headers=key))
    orders = [_ok(shop.order([(sku["id"], 1)]), 201)["id"] for _ in range(3)]

    shrunk = _ok(
        shop.post(
            f"/capacity/{a}/revise",
            headers=key,
            json={"quantity": 1, "ready_on": _day(1).isoformat(), "note": "布料短缺"},
        )
    )
    assert [x["order_id"] for x in shrunk["at_risk"]] == [orders[1]]
    assert shrunk["at_risk"][0]["reason"] == "later_batch"
    assert shrunk["exposure_yuan"] == "19.90"
    risk = _ok(shop.get(f"/skus/{sku['id']}/capacity/risk", params={"hours": 6}))
    assert (risk["revised_down"], [x["order_id"] for x in risk["lines"]]) == ([a], [orders[1]])
    assert risk["pace"]["units_sold"] == 3 and risk["pace"]["remaining"] == 1

    assert_error(shop.post(f"/capacity/{b}/receive", headers=key), 403)
    received = _ok(
        shop.post(f"/capacity/{b}/receive", headers=_key(shop, "warehouse"), json={"note": "到货"})
    )
    assert (received["batch"]["status"], received["moved_to_spot"]) == ("received", 1)
    assert shop.available(sku["id"]) == {"spot": 1, "presale": 0}
    assert_error(shop.post(f"/capacity/{b}/decline", headers=key), 409, error="batch_state")


def test_a_supplier_key_needs_a_supplier_of_this_shop(shop: ShopClient, api: Api) -> None:
    assert_error(
        shop.post("/keys", json={"role": "viewer", "supplier_id": 1}), 422, field="supplier_id"
    )
    other = api.new_shop("别的店")
    theirs = _ok(other.post("/suppliers", json={"name": "别人的工厂"}), 201)
    assert_error(
        shop.post("/keys", json={"role": "supplier", "supplier_id": theirs["id"]}),
        404,
        field="supplier_id",
    )
    assert_error(shop.post("/suppliers", json={"name": ""}), 422)
    _ok(shop.post("/suppliers", json={"name": "同名"}), 201)
    assert_error(shop.post("/suppliers", json={"name": "同名"}), 409, error="duplicate")
