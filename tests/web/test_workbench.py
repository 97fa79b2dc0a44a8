"""The merchant workbench in a real browser against the real server and database."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.web.conftest import Shop, screenshot, sign_in, switch_language


def _product(page: Any, name: str) -> Any:
    return page.locator("[data-testid=product]", has=page.get_by_role("heading", name=name))


def test_a_wrong_key_is_refused_and_the_shop_key_signs_in(
    page: Any, shop: Shop, backend: str
) -> None:
    page.goto("/web/products")
    expect(page).to_have_url(re.compile(r"/web/signin$"))
    page.fill("input[name=api_key]", "ts_not-a-key")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("error")).to_be_visible()
    screenshot(page, "signin-zh", backend)
    switch_language(page, "en")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "signin-en", backend)
    sign_in(page, shop.key)
    expect(page.get_by_test_id("shop")).to_contain_text(str(shop.id))


def test_merchant_creates_a_tiered_sku_and_changes_its_form_only_while_delisted(
    page: Any, shop: Shop, backend: str
) -> None:
    sign_in(page, shop.key)
    page.goto("/web/products")
    expect(page.get_by_role("heading", name="商品", exact=True)).to_be_visible()
    page.get_by_test_id("product-name").fill("加厚羽绒服")
    page.get_by_test_id("create-product").click()
    product = _product(page, "加厚羽绒服")
    expect(product.get_by_test_id("notice")).to_contain_text("商品已创建")

    add = product.get_by_test_id("add-sku")
    add.get_by_test_id("sku-code").fill("JACKET-BLACK-L")
    add.get_by_test_id("sku-price").fill("299.90")
    add.locator("input[name=specs]").fill("颜色=黑, 尺码=L")
    add.get_by_test_id("form-select").select_option("tiered")
    add.get_by_test_id("spot-window").select_option("48")
    add.get_by_test_id("presale-days").fill("5")
    add.get_by_test_id("spot-stock").fill("100")
    add.get_by_test_id("presale-stock").fill("400")
    add.get_by_test_id("add-sku-submit").click()
    sku = product.locator("[data-testid=sku][data-sku-code=JACKET-BLACK-L]")
    expect(sku.get_by_test_id("tier-spot")).to_have_attribute("data-available", "100")
    expect(sku.get_by_test_id("tier-presale")).to_have_attribute("data-available", "400")
    expect(sku.get_by_test_id("sku-form")).to_have_attribute("data-form", "tiered")
    expect(sku).to_contain_text("¥299.90")
    expect(sku.get_by_test_id("promise")).to_contain_text("48小时内发货")

    product.get_by_test_id("list").click()
    expect(product.get_by_test_id("listed-badge")).to_have_text("已上架")

    # A listed product's form is frozen: the page says so, and shows the server's 409.
    sku = product.locator("[data-testid=sku][data-sku-code=JACKET-BLACK-L]")
    sku.get_by_test_id("edit-form").locator("summary").click()
    expect(sku.get_by_test_id("form-explanation")).to_contain_text("先下架")
    sku.get_by_test_id("form-select").select_option("spot")
    sku.get_by_test_id("spot-window").select_option("24")
    with page.expect_response(lambda r: r.url.endswith("/sales-form")) as answer:
        sku.get_by_test_id("save-form").click()
    assert answer.value.status == 409
    error = product.get_by_test_id("error")
    expect(error).to_have_attribute("data-code", "listed_product_form_change")
    expect(error.get_by_test_id("error-message")).to_contain_text("delist it first")
    screenshot(page, "products-refused-zh", backend)

    product.get_by_test_id("delist").click()
    expect(product.get_by_test_id("listed-badge")).to_have_text("已下架")
    sku = product.locator("[data-testid=sku][data-sku-code=JACKET-BLACK-L]")
    sku.get_by_test_id("edit-form").locator("summary").click()
    expect(sku.get_by_test_id("form-explanation")).to_contain_text("已下架")
    sku.get_by_test_id("form-select").select_option("spot")
    sku.get_by_test_id("spot-window").select_option("24")
    sku.get_by_test_id("save-form").click()
    expect(product.get_by_test_id("notice")).to_have_text("销售形式已修改。")
    sku = product.locator("[data-testid=sku][data-sku-code=JACKET-BLACK-L]")
    expect(sku.get_by_test_id("sku-form")).to_have_attribute("data-form", "spot")
    expect(sku.get_by_test_id("promise")).to_contain_text("24小时内发货")

    # Stock 0 is allowed; the product can be listed with it (and cannot be bought).
    sku.get_by_test_id("set-stock").locator("summary").click()
    sku.get_by_test_id("available").fill("0")
    sku.get_by_test_id("save-stock").click()
    sku = product.locator("[data-testid=sku][data-sku-code=JACKET-BLACK-L]")
    expect(sku.get_by_test_id("tier-spot")).to_have_attribute("data-available", "0")
    expect(sku.get_by_test_id("promise")).to_contain_text("已售罄")
    product.get_by_test_id("list").click()
    expect(product.get_by_test_id("listed-badge")).to_have_text("已上架")
    screenshot(page, "products-zh", backend)
    switch_language(page, "en")
    product = _product(page, "加厚羽绒服")
    expect(product.get_by_test_id("listed-badge")).to_have_text("Listed (上架)")
    expect(product.get_by_test_id("promise")).to_contain_text("sold out")
    screenshot(page, "products-en", backend)


def test_a_simulated_burst_drives_the_live_view_to_the_sold_totals(
    page: Any, shop: Shop, backend: str
) -> None:
    sku = shop.listed_tiered_sku("直播爆款 羽绒服", spot=60, presale=120)
    sign_in(page, shop.key)
    page.goto("/web/live")
    page.locator(f"[data-testid=pick-sku][data-sku-code={sku['code']}]").check()
    page.get_by_test_id("start-live").click()
    live = page.get_by_test_id("live-view")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    row = live.locator(f"[data-testid=live-sku][data-sku-id='{sku['id']}']")
    expect(row.locator("[data-field=spot-quantity]")).to_have_text("60")

    page.get_by_test_id("burst-buyers").fill("200")
    page.get_by_test_id("burst-rate").fill("100")
    page.get_by_test_id("burst-start").click()
    expect(page.get_by_test_id("burst-status")).to_have_attribute(
        "data-done", "true", timeout=60_000
    )
    sold = shop.sold(sku["id"])
    assert sold == {"spot": 60, "presale": 120}  # 200 buyers, 180 units: 20 refused
    expect(row.locator("[data-field=spot-sold]")).to_have_text("60", timeout=10_000)
    expect(row.locator("[data-field=presale-sold]")).to_have_text("120")
    expect(live.get_by_test_id("orders-total")).to_have_text("180")
    expect(row.locator("[data-field=runout]")).to_have_text("现货已售罄")
    expect(page.get_by_test_id("burst-status")).to_contain_text("180")
    updates = int(live.get_attribute("data-updates") or 0)
    assert updates < 200, "the live view must coalesce updates, not send one per order"
    page.wait_for_timeout(600)  # one more tick so both charts have drawn the last figures
    screenshot(page, "live-zh", backend)
    switch_language(page, "en")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    row = page.locator(f"[data-testid=live-sku][data-sku-id='{sku['id']}']")
    expect(row.locator("[data-field=runout]")).to_have_text("spot sold out")
    page.wait_for_timeout(600)
    screenshot(page, "live-en", backend)

    # The stock page shows the burst in the ledger, filtered by tier and kind.
    page.goto(f"/web/stock?sku={sku['id']}")
    page.get_by_test_id("filter-kind").select_option("sale")
    page.get_by_test_id("filter-tier").select_option("spot")
    expect(page.get_by_test_id("ledger-count")).to_contain_text("60 entries match")
    expect(page.locator("[data-testid=ledger-row][data-tier=presale]")).to_have_count(0)
    screenshot(page, "stock-en", backend)
    switch_language(page, "zh_CN")
    expect(page.get_by_test_id("ledger-count")).to_contain_text("60 条记录符合条件")
    screenshot(page, "stock-zh", backend)

    page.goto("/web/?below=0")
    low = page.locator(f"[data-testid=low-row][data-sku-id='{sku['id']}']")
    expect(low).to_have_count(2)
    # 180 paid lines, 60 of them spot: 33.3 % is below the pack's 70 % minimum.
    expect(page.get_by_test_id("eligible")).to_have_attribute("data-eligible", "false")
    expect(page.get_by_test_id("spot-share")).to_have_text("33.3%")
    expect(page.get_by_test_id("overdue-lines")).to_have_text("0")
    expect(page.locator("#chart-eligibility canvas")).to_have_count(1)
    screenshot(page, "overview-zh", backend)
    switch_language(page, "en")
    expect(page.get_by_role("heading", name="Low on stock")).to_be_visible()
    screenshot(page, "overview-en", backend)


def test_a_page_never_shows_another_shops_data(page: Any, shop: Shop, web_url: str) -> None:
    other = Shop(web_url, "别人的店")
    theirs = other.listed_tiered_sku("别人的商品", spot=5, presale=5)
    sign_in(page, shop.key)
    page.goto("/web/products")
    expect(page.get_by_text("别人的商品")).to_have_count(0)
    page.goto(f"/web/stock?sku={theirs['id']}")
    expect(page.get_by_text("别人的商品")).to_have_count(0)
    page.goto(f"/web/live?sku={theirs['id']}")
    expect(page.get_by_test_id("live-view")).to_have_count(0)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=web_url, cookies=cookies) as client:
        stream = client.get(f"/web/live/stream?sku={theirs['id']}")
        assert stream.status_code == 404
        delist = client.post(
            f"/web/products/{theirs['product_id']}/delist", headers={"HX-Request": "true"}
        )
        assert delist.status_code == 404
        # A change must come from the workbench page (htmx), not a plain cross-site form.
        mine = shop.listed_tiered_sku("我的商品", spot=1, presale=1)
        forged = client.post(f"/web/products/{mine['product_id']}/delist")
        assert forged.status_code == 403
    card = other.http.get(f"/products/{theirs['product_id']}/card").json()
    assert card["product"]["listed"] is True
    other.http.close()


def test_a_viewer_key_reads_but_cannot_change_and_a_revoked_key_signs_out(
    page: Any, shop: Shop
) -> None:
    sku = shop.listed_tiered_sku("只读商品", spot=3, presale=3)
    made = shop.http.post("/keys", json={"role": "viewer", "label": "看板"})
    assert made.status_code == 201, made.text
    sign_in(page, made.json()["api_key"])
    page.goto("/web/products")
    product = _product(page, "只读商品")
    with page.expect_response(lambda r: r.url.endswith("/delist")) as answer:
        product.get_by_test_id("delist").click()
    assert answer.value.status == 403
    expect(product.get_by_test_id("error")).to_have_attribute("data-code", "forbidden")
    assert shop.http.get(f"/products/{sku['product_id']}/card").json()["product"]["listed"]

    assert shop.http.delete(f"/keys/{made.json()['id']}").status_code == 204
    page.goto("/web/products")
    expect(page).to_have_url(re.compile(r"/web/signin$"))
