"""Promises at risk in the live view (issue 5), on SQLite and PostgreSQL.

In process, with a clock the test moves: lines become due soon, then overdue, and the
live tracker's figures equal the promise board's. In the browser, against the real
server (whose clock cannot move): a batch revised below what is promised puts presale
lines at risk, and the live view shows what ``GET /skus/{id}/capacity/risk`` and
``GET /promises`` report.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.conftest import ManualClock
from tests.web.conftest import Shop, sign_in, switch_language
from tierstock.domain.fulfilment import Urgency
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
from tierstock.services import catalogue, placing, shops
from tierstock.services.promises import promise_board
from tierstock.services.runtime import Runtime
from tierstock.web.live import RISK_INTERVAL, LiveTracker

SHANGHAI = ZoneInfo("Asia/Shanghai")
PRICE = 12_000


def _money(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


# In process: the clock moves -------------------------------------------------------------
def _spot_sku(runtime: Runtime, price: int = PRICE) -> tuple[int, int]:
    shop = shops.create_shop(shops.CreateShop("live risk"), runtime.uow()).shop
    product = catalogue.create_product(catalogue.CreateProduct(shop.id, "scarf"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop.id,
            product.id,
            f"SCF-{uuid.uuid4().hex[:6]}",
            price,
            SalesFormSpec(SalesForm.SPOT, 24),
            spot_stock=20,
            presale_stock=0,
        ),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop.id, product.id, True), runtime.uow())
    return shop.id, sku.id


def _pay(runtime: Runtime, shop_id: int, sku_id: int, quantity: int) -> None:
    key = uuid.uuid4().hex
    cmd = placing.PlaceOrder(shop_id, key, (LineRequest(sku_id, quantity),), f"buyer-{key}")
    placing.place_order(cmd, runtime.uow())


def _board_figures(runtime: Runtime, shop_id: int, sku_id: int) -> tuple[int, int, int]:
    board = promise_board(shop_id, runtime.uow(readonly=True), due_within_hours=12)
    mine = [v for v in board.lines if v.line.sku_id == sku_id]
    soon = [v for v in mine if v.exposure.urgency is Urgency.DUE_SOON]
    late = [v for v in mine if v.exposure.urgency in (Urgency.OVERDUE, Urgency.LAPSED)]
    fen = sum(v.exposure.next_fen or 0 for v in soon) + sum(v.exposure.now_fen for v in late)
    return len(soon), len(late), fen


def test_lines_due_soon_then_overdue_show_in_the_live_figures(
    runtime: Runtime, clock: ManualClock
) -> None:
    t0 = clock.now
    shop_id, sku_id = _spot_sku(runtime)
    other_shop, other_sku = _spot_sku(runtime)
    for quantity in (1, 2, 3):
        _pay(runtime, shop_id, sku_id, quantity)
    clock.now = t0 + timedelta(hours=1)
    _pay(runtime, shop_id, sku_id, 1)  # due an hour after the others
    _pay(runtime, other_shop, other_sku, 5)  # another shop's line never counts

    tracker = LiveTracker(runtime, shop_id, [sku_id])
    assert tracker.due_soon_hours == 12
    snap = tracker.snapshot(tracker.refresh())
    assert snap["skus"][0]["risk"] == {
        "due_soon": 0,
        "overdue": 0,
        "exposure_fen": 0,
        "batch_lines": None,
        "batch_fen": 0,
    }

    # 13 h on: the first three are 11 h from their 24 h deadline, the fourth 12 h.
    clock.now = t0 + timedelta(hours=13)
    risk = tracker.snapshot(tracker.refresh())["skus"][0]["risk"]
    due_soon, overdue, fen = _board_figures(runtime, shop_id, sku_id)
    assert (due_soon, overdue) == (4, 0)
    assert risk == {
        "due_soon": 4,
        "overdue": 0,
        "exposure_fen": fen,
        "batch_lines": None,
        "batch_fen": 0,
    }
    assert fen > 0

    # Within the risk interval nothing is read again: no query per tick or per order.
    read_at = tracker.risk_read_at
    clock.now += RISK_INTERVAL / 2
    _pay(runtime, shop_id, sku_id, 1)
    assert tracker.snapshot(tracker.refresh())["skus"][0]["risk"]["due_soon"] == 4
    assert tracker.risk_read_at == read_at

    # 24 h 30 min on: three overdue, the fourth still due soon (the new one is not).
    clock.now = t0 + timedelta(hours=24, minutes=30)
    risk = tracker.snapshot(tracker.refresh())["skus"][0]["risk"]
    due_soon, overdue, fen = _board_figures(runtime, shop_id, sku_id)
    assert (due_soon, overdue) == (1, 3)
    assert (risk["due_soon"], risk["overdue"], risk["exposure_fen"]) == (1, 3, fen)


# In the browser: a revised batch puts presale lines at risk ------------------------------
def _tomorrow() -> str:
    return (datetime.now(SHANGHAI).date() + timedelta(days=1)).isoformat()


def _order(shop: Shop, sku_id: int, quantity: int) -> None:
    r = shop.http.post(
        "/orders",
        json={"lines": [{"sku_id": sku_id, "quantity": quantity}]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code in (200, 201), r.text


def _listed_24h(shop: Shop, name: str, form: str = "tiered") -> dict[str, Any]:
    """A listed SKU with the shortest spot window (24 h) and 2 spot units."""
    product = shop.http.post("/products", json={"name": name})
    assert product.status_code == 201, product.text
    pid = product.json()["id"]
    sales_form: dict[str, Any] = {"form": form, "spot_window_hours": 24}
    if form == "tiered":
        sales_form["presale_days"] = 5
    sku = shop.http.post(
        f"/products/{pid}/skus",
        json={
            "code": f"SKU-{uuid.uuid4().hex[:6]}",
            "price_fen": 19_900,
            "sales_form": sales_form,
            "spot_stock": 2,
            "presale_stock": 0,
        },
    )
    assert sku.status_code == 201, sku.text
    assert shop.http.post(f"/products/{pid}/list").status_code == 200
    body: dict[str, Any] = sku.json()
    return body


def _due_figures(shop: Shop, sku_id: int) -> tuple[int, int, int]:
    r = shop.http.get("/promises", params={"due_within_hours": 12, "limit": 1000})
    assert r.status_code == 200, r.text
    mine = [p for p in r.json()["data"] if p["sku_id"] == sku_id]
    soon = [p for p in mine if p["urgency"] == "due_soon"]
    late = [p for p in mine if p["urgency"] in ("overdue", "lapsed")]
    fen = sum(p["compensation_next_fen"] or 0 for p in soon) + sum(
        p["compensation_now_fen"] for p in late
    )
    return len(soon), len(late), fen


def test_the_live_view_shows_the_promises_a_revised_batch_puts_at_risk(
    page: Any, shop: Shop
) -> None:
    sku = _listed_24h(shop, "直播 围巾")
    spot_only = _listed_24h(shop, "直播 帽子", form="spot")
    supplier = shop.http.post("/suppliers", json={"name": "绍兴针织"})
    assert supplier.status_code == 201, supplier.text
    proposed = shop.http.post(
        f"/skus/{sku['id']}/capacity",
        json={
            "supplier_id": supplier.json()["id"],
            "batches": [{"quantity": 10, "ready_on": _tomorrow()}],
        },
    )
    assert proposed.status_code == 201, proposed.text
    batch_id = proposed.json()[0]["id"]
    assert shop.http.post(f"/capacity/{batch_id}/confirm", json={}).status_code == 200
    _order(shop, sku["id"], 1)
    _order(shop, sku["id"], 1)  # the 2 spot units: lines due in 24 h
    _order(shop, sku["id"], 3)
    _order(shop, sku["id"], 3)  # 6 presale units of the batch

    sign_in(page, shop.key)
    page.goto(f"/web/live?sku={sku['id']}&sku={spot_only['id']}")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    row = page.locator(f"[data-testid=live-sku][data-sku-id='{sku['id']}']")
    expect(row.locator("[data-field=risk-batch-lines]")).to_have_text("0")
    expect(row.locator("[data-field=risk-batch-exposure]")).to_have_text("¥0.00")
    other = page.locator(f"[data-testid=live-sku][data-sku-id='{spot_only['id']}']")
    expect(other.locator("[data-field=risk-batch-lines]")).to_have_text("—")
    expect(other.locator("[data-field=risk-due-soon]")).to_have_text("0")

    # Nothing is due within the pack's 12 h yet (the server clock cannot move): the
    # live view says what GET /promises says, and every open line is on track.
    due_soon, overdue, fen = _due_figures(shop, sku["id"])
    expect(row.locator("[data-field=risk-due-soon]")).to_have_text(str(due_soon))
    expect(row.locator("[data-field=risk-overdue]")).to_have_text(str(overdue))
    expect(row.locator("[data-field=risk-exposure]")).to_have_text(_money(fen))
    every = shop.http.get("/promises").json()["data"]
    assert len([p for p in every if p["sku_id"] == sku["id"]]) == 4

    # The supplier can make only 2: both presale lines' last units are uncovered.
    revised = shop.http.post(
        f"/capacity/{batch_id}/revise", json={"quantity": 2, "ready_on": _tomorrow()}
    )
    assert revised.status_code == 200, revised.text
    risk = shop.http.get(f"/skus/{sku['id']}/capacity/risk").json()
    assert len(risk["lines"]) == 2 and risk["exposure_fen"] > 0
    expect(row.locator("[data-field=risk-batch-lines]")).to_have_text(
        str(len(risk["lines"])), timeout=10_000
    )
    expect(row.locator("[data-field=risk-batch-exposure]")).to_have_text(
        _money(risk["exposure_fen"])
    )
    expect(page.get_by_test_id("live-table")).to_contain_text("12 小时内到期")

    switch_language(page, "en")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("live-table")).to_contain_text("Due within 12 h")
    expect(page.get_by_test_id("live-table")).to_contain_text("Presale lines at risk from batches")
    expect(row.locator("[data-field=risk-batch-lines]")).to_have_text("2")
    expect(row.locator("[data-field=risk-batch-exposure]")).to_have_text(
        _money(risk["exposure_fen"])
    )
