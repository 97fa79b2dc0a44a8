"""The live planner page in a real browser: run a plan, see the sell-out minute and charts."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import Shop, screenshot, sign_in, switch_language


def test_a_plan_shows_when_spot_sells_out_and_draws_its_charts(
    page: Any, shop: Shop, backend: str
) -> None:
    sku = shop.listed_tiered_sku("直播爆款卫衣", spot=200, presale=300)
    sign_in(page, shop.key)
    page.get_by_role("link", name="直播规划").click()
    expect(page.get_by_role("heading", name="直播规划", exact=True)).to_be_visible()
    expect(page.get_by_test_id("no-plan")).to_be_visible()

    page.get_by_test_id("plan-sku").select_option(str(sku["id"]))
    page.get_by_test_id("plan-buyers").fill("1000")
    page.get_by_test_id("plan-minutes").fill("60")
    page.get_by_test_id("plan-curve").select_option("spike")
    page.get_by_test_id("plan-slip").fill("3")
    page.get_by_test_id("plan-seed").fill("7")
    with page.expect_response(lambda r: "/web/planner?" in r.url) as answer:
        page.get_by_test_id("plan-run").click()
    assert answer.value.status == 200

    sold_out = page.get_by_test_id("spot-sold-out")
    expect(sold_out).to_contain_text("第")
    minute = sold_out.get_attribute("data-minute")
    assert minute and 0 <= int(minute) < 60
    expect(page.get_by_test_id("refused")).not_to_have_text("0")  # 1000 buyers, 500 units
    expect(page.get_by_test_id("promise-date").first).to_be_visible()
    expect(page.get_by_test_id("plan-result")).to_have_attribute("data-rendered", "true")
    expect(page.locator("#chart-plan-burn canvas")).to_have_count(1)
    expect(page.locator("#chart-plan-orders canvas")).to_have_count(1)
    expect(page.get_by_test_id("compensation")).to_contain_text("¥")

    # The same plan through the API: the page shows the service's answer.
    api = shop.http.post(
        "/plans",
        json={
            "sku_id": sku["id"],
            "buyers": 1000,
            "curve": {"shape": "spike", "duration_minutes": 60},
            "slip_days": 3,
            "seed": 7,
        },
    )
    assert api.status_code == 200, api.text
    assert api.json()["spot"]["sold_out_minute"] == int(minute)
    assert page.get_by_test_id("refused").get_attribute("data-buyers") == str(
        api.json()["refused"]["buyers"]
    )
    assert page.get_by_test_id("compensation").get_attribute("data-fen") == str(
        api.json()["risk"]["compensation_fen"]
    )
    screenshot(page, "planner-zh", backend)

    switch_language(page, "en")  # the address carries the plan: it is run again
    expect(page.get_by_role("heading", name="Live planner", exact=True)).to_be_visible()
    expect(page.get_by_test_id("spot-sold-out")).to_contain_text(f"minute {minute}")
    expect(page.locator("#chart-plan-burn canvas")).to_have_count(1)
    screenshot(page, "planner-en", backend)


def test_a_plan_the_planner_refuses_is_explained_in_the_page(page: Any, shop: Shop) -> None:
    shop.listed_tiered_sku("保温杯", spot=10, presale=0)
    sign_in(page, shop.key)
    page.goto("/web/planner")
    page.get_by_test_id("plan-minutes").fill("5000")
    page.get_by_test_id("plan-minutes").evaluate("el => el.removeAttribute('max')")
    page.get_by_test_id("plan-run").click()
    expect(page.get_by_test_id("error")).to_have_attribute("data-code", "invalid_value")
    expect(page.get_by_test_id("error")).to_contain_text("duration_minutes")
