"""The suppliers-and-capacity page in a real browser: propose, confirm for the supplier,
presale capacity follows; a revision below what is promised shows the promises at risk."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.web.conftest import Shop, screenshot, sign_in, switch_language

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _tomorrow() -> str:
    return (datetime.now(SHANGHAI).date() + timedelta(days=1)).isoformat()


def _presale(shop: Shop, sku_id: int) -> dict[str, int]:
    r = shop.http.get(f"/skus/{sku_id}/capacity")
    assert r.status_code == 200, r.text
    presale: dict[str, int] = r.json()["presale"]
    return presale


def _post(page: Any, suffix: str, click: Any) -> int:
    with page.expect_response(lambda r: r.url.endswith(suffix)) as answer:
        click()
    status: int = answer.value.status
    return status


def test_a_batch_proposed_and_confirmed_for_the_supplier_becomes_presale_capacity(
    page: Any, shop: Shop, backend: str
) -> None:
    sku = shop.listed_tiered_sku("羽绒服", spot=0, presale=0)
    made = shop.http.post("/suppliers", json={"name": "杭州织造厂"})
    assert made.status_code == 201, made.text

    sign_in(page, shop.key)
    page.get_by_role("link", name="供应商与产能").click()
    expect(page.get_by_role("heading", name="供应商与产能", exact=True)).to_be_visible()
    expect(page.get_by_test_id("supplier-row")).to_have_count(1)

    # Another supplier, added from the page.
    page.get_by_test_id("supplier-name").fill("义乌工厂")
    assert _post(page, "/capacity/suppliers", page.get_by_test_id("add-supplier").click) == 201
    expect(page.get_by_test_id("supplier-row")).to_have_count(2)
    expect(page.get_by_test_id("notice")).to_contain_text("义乌工厂")

    # Propose on the page: not sellable yet.
    body = page.get_by_test_id("sku-capacity")
    expect(body).to_have_attribute("data-sku-id", str(sku["id"]))
    page.get_by_test_id("propose-supplier").select_option(str(made.json()["id"]))
    page.get_by_test_id("propose-quantity").fill("10")
    page.get_by_test_id("propose-ready-on").fill(_tomorrow())
    assert _post(page, "/batches", page.get_by_test_id("propose-batch").click) == 201
    row = page.get_by_test_id("batch-row")
    expect(row).to_have_attribute("data-status", "proposed")
    expect(page.get_by_test_id("presale-quantity")).to_have_attribute("data-value", "0")
    assert _presale(shop, sku["id"])["quantity"] == 0

    # Confirm for the (offline) supplier: the presale tier gains the batch.
    assert _post(page, "/confirm", row.get_by_test_id("confirm-batch").click) == 200
    expect(page.get_by_test_id("batch-row")).to_have_attribute("data-status", "confirmed")
    expect(page.get_by_test_id("presale-quantity")).to_have_attribute("data-value", "10")
    expect(page.get_by_test_id("presale-available")).to_have_text("10")
    assert _presale(shop, sku["id"])["quantity"] == 10
    page.get_by_test_id("batch-history").first.locator("summary").click()
    expect(page.get_by_test_id("batch-history").first).to_contain_text("已确认")

    # Buyers take 6 presale units; the supplier then can make only 2.
    for _ in range(2):
        order = shop.http.post(
            "/orders",
            json={"lines": [{"sku_id": sku["id"], "quantity": 3}]},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert order.status_code in (200, 201), order.text
    page.reload()
    expect(page.get_by_test_id("pace-sold")).to_have_text("6")
    expect(page.get_by_test_id("runs-out")).not_to_have_text("—")
    expect(page.get_by_test_id("no-risk")).to_be_visible()
    page.get_by_test_id("pace-hours").select_option("24")
    expect(page.get_by_text("最近 24 小时售出")).to_be_visible()
    expect(page.get_by_test_id("pace-sold")).to_have_text("6")
    row = page.get_by_test_id("batch-row")
    row.locator("details", has_text="修改").locator("summary").click()
    row.get_by_test_id("revise-quantity").fill("2")
    assert _post(page, "/revise", row.get_by_test_id("revise-batch").click) == 200
    expect(page.get_by_test_id("notice")).to_contain_text("面临风险")
    risky = page.get_by_test_id("at-risk-row")
    # Only 2 of the 6 promised units are covered: each line's last unit is not.
    expect(risky).to_have_count(2)
    expect(risky.first).to_have_attribute("data-reason", "uncovered")
    fen = int(page.get_by_test_id("exposure").get_attribute("data-fen") or "0")
    assert fen > 0
    risk = shop.http.get(f"/skus/{sku['id']}/capacity/risk").json()
    assert risk["exposure_fen"] == fen
    expect(page.get_by_test_id("exposure")).to_contain_text("¥")

    # A second batch the supplier cannot make: declined for it, after a confirmation.
    second = shop.http.post(
        f"/skus/{sku['id']}/capacity",
        json={
            "supplier_id": made.json()["id"],
            "batches": [{"quantity": 4, "ready_on": _tomorrow()}],
        },
    )
    assert second.status_code == 201, second.text
    page.reload()
    other = page.locator(f"[data-testid=batch-row][data-batch-id='{second.json()[0]['id']}']")
    page.once("dialog", lambda dialog: dialog.accept())
    assert _post(page, "/decline", other.get_by_test_id("decline-batch").click) == 200
    expect(other).to_have_attribute("data-status", "declined")
    assert _presale(shop, sku["id"])["quantity"] == 6
    screenshot(page, "capacity-zh", backend)

    switch_language(page, "en")
    expect(page.get_by_role("heading", name="Suppliers and capacity", exact=True)).to_be_visible()
    expect(page.get_by_test_id("batch-status").first).to_have_text("confirmed")
    expect(page.get_by_test_id("exposure")).to_contain_text("CN¥")
    screenshot(page, "capacity-en", backend)


def test_a_viewer_reads_capacity_and_is_told_why_it_cannot_change_it(page: Any, shop: Shop) -> None:
    sku = shop.listed_tiered_sku("毛衣", spot=0, presale=0)
    supplier = shop.http.post("/suppliers", json={"name": "绍兴针织"}).json()
    proposed = shop.http.post(
        f"/skus/{sku['id']}/capacity",
        json={"supplier_id": supplier["id"], "batches": [{"quantity": 5, "ready_on": _tomorrow()}]},
    )
    assert proposed.status_code == 201, proposed.text
    viewer = shop.http.post("/keys", json={"role": "viewer", "label": "看板"})
    assert viewer.status_code == 201, viewer.text
    sign_in(page, viewer.json()["api_key"])
    page.goto("/web/capacity")
    expect(page.get_by_test_id("cannot-change")).to_contain_text("查看")
    expect(page.get_by_test_id("batch-row")).to_have_attribute("data-status", "proposed")
    expect(page.get_by_test_id("confirm-batch")).to_have_count(0)
    expect(page.get_by_test_id("propose-form")).to_have_count(0)
    expect(page.get_by_test_id("supplier-form")).to_have_count(0)
    # A change sent anyway is refused by the server, and nothing changes.
    batch_id = proposed.json()[0]["id"]
    answer = page.request.post(
        f"/web/capacity/batches/{batch_id}/confirm",
        headers={"HX-Request": "true"},
        form={"sku": str(sku["id"])},
    )
    assert answer.status == 403
    assert _presale(shop, sku["id"])["quantity"] == 0
