"""The channels page (渠道) in a real browser, on both databases: a Kuaishou store added
from the page and reached through the real client at a loopback double, a SKU linked,
a share set (and a share of 120 % refused in Chinese, the typed value kept), safety
stock, the live lock on and off, then the worker's sync and an oversell incident — and
no credential ever in the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Shop, screenshot, sign_in, switch_language
from tierstock.config import Settings
from tierstock.services.channels import setup
from tierstock.services.channels.worker import ChannelWorker
from tierstock.services.runtime import Runtime
from tierstock.testing.platforms.kuaishou import KuaishouDouble

ITEM, KS_SKU = "1001", "2001"
WIDE, NARROW = {"width": 1440, "height": 900}, {"width": 390, "height": 844}
# A time as the page shows it in zh-CN: to the second, no microseconds.
ZH_SECONDS = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}$")


@pytest.fixture()
def channels_runtime(_engines: Runtime) -> Runtime:
    """The server's database, with the key the server seals credentials with (the same
    settings: TIERSTOCK_SECRET_KEY or the data folder's key)."""
    return Runtime(
        _engines.engine, lambda: datetime.now(UTC), secret_source=Settings().resolved_secret_key
    )


@pytest.fixture()
def ks() -> Iterator[KuaishouDouble]:
    with KuaishouDouble() as double:
        double.set_stock(ITEM, KS_SKU, 0)
        yield double


def _sync(runtime: Runtime) -> None:
    """One round of the channel worker (`tierstock channels sync`), as a test runs it."""
    worker = ChannelWorker(runtime, runtime.secret_key(), lag=timedelta(0), reconcile_every=3600)
    try:
        worker.run_round()
    finally:
        worker.close()


def _post(page: Any, suffix: str, click: Any) -> Any:
    with page.expect_response(lambda r: r.url.endswith(suffix)) as answer:
        click()
    return answer.value


def _no_secret(page: Any, ks: KuaishouDouble) -> None:
    html = page.content()
    assert ks.sign_secret not in html and ks.access_token not in html and ks.app_key not in html


def _fits(page: Any, width: int) -> None:
    """Nothing wider than the window: the page never scrolls sideways."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide in a {width} px window"


def _pictures(page: Any, name: str, backend: str) -> None:
    page.set_viewport_size(WIDE)
    _fits(page, WIDE["width"])
    screenshot(page, name, backend)
    page.set_viewport_size(NARROW)
    _fits(page, NARROW["width"])
    screenshot(page, f"{name}-390", backend)
    page.set_viewport_size(WIDE)


def test_a_kuaishou_store_linked_ruled_and_live_locked_from_the_page(
    page: Any, shop: Shop, backend: str, channels_runtime: Runtime, ks: KuaishouDouble
) -> None:
    runtime = channels_runtime
    sku = shop.listed_tiered_sku("连衣裙", spot=10, presale=5)
    sign_in(page, shop.key)
    page.get_by_role("link", name="渠道", exact=True).click()
    expect(page.get_by_role("heading", name="渠道", exact=True)).to_be_visible()
    expect(page.get_by_test_id("no-stores")).to_be_visible()

    # The credential fields follow the platform chosen.
    page.get_by_test_id("store-platform").select_option("douyin")
    expect(page.get_by_test_id("cred-app_secret")).to_be_visible()
    expect(page.get_by_test_id("cred-sign_secret")).to_have_count(0)
    page.get_by_test_id("store-platform").select_option("kuaishou")
    expect(page.get_by_test_id("cred-sign_secret")).to_be_visible()

    # A gateway that is not http(s) is refused in Chinese; what was typed stays.
    page.get_by_test_id("store-name-input").fill("快手旗舰店")
    page.get_by_test_id("store-url").fill("ftp://127.0.0.1/")
    page.get_by_test_id("cred-app_key").fill(ks.app_key)
    page.get_by_test_id("cred-sign_secret").fill(ks.sign_secret)
    page.get_by_test_id("cred-access_token").fill(ks.access_token)
    refused = _post(page, "/channels/stores", page.get_by_test_id("add-store").click)
    assert refused.status == 422
    assert ks.sign_secret not in refused.text()  # the server never sends a secret back
    expect(page.get_by_test_id("error-message")).to_contain_text("网关地址须以 http://")
    expect(page.get_by_test_id("store-name-input")).to_have_value("快手旗舰店")
    expect(page.get_by_test_id("cred-sign_secret")).to_have_value(ks.sign_secret)

    # Pointed at the started double, the store is added; only the fields set are shown.
    page.get_by_test_id("store-url").fill(ks.url)
    added = _post(page, "/channels/stores", page.get_by_test_id("add-store").click)
    assert added.status == 201
    assert ks.sign_secret not in added.text() and ks.access_token not in added.text()
    store = page.get_by_test_id("store-row")
    expect(store).to_have_count(1)
    expect(store).to_have_attribute("data-platform", "kuaishou")
    expect(store.get_by_test_id("credentials-set")).to_contain_text("签名密钥")
    expect(store).to_contain_text("快手")
    expect(store.get_by_test_id("synced-until")).to_have_text("尚未同步")
    expect(page.get_by_test_id("cred-sign_secret")).to_have_value("")  # a fresh form
    _no_secret(page, ks)

    # Link the SKU to the platform item/SKU: a push is queued.
    page.get_by_test_id("link-sku").select_option(str(sku["id"]))
    page.get_by_test_id("link-item").fill(ITEM)
    page.get_by_test_id("link-platform-sku").fill(KS_SKU)
    assert (
        _post(page, "/channels/links", page.get_by_test_id("link-sku-button").click).status == 201
    )
    link = page.get_by_test_id("link-row")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("data-rule", "none")
    expect(link.get_by_test_id("link-figure")).to_have_text("15")  # no rule: the whole pool
    expect(store).to_have_attribute("data-queued", "1")

    # A share of 50 %: half of each tier.
    link.get_by_test_id("rule-kind").select_option("share")
    link.get_by_test_id("rule-value").fill("50")
    assert _post(page, "/rule", link.get_by_test_id("save-rule").click).status == 200
    expect(link).to_have_attribute("data-rule", "share:50")
    expect(link.get_by_test_id("link-rule")).to_have_text("按比例 50%")
    expect(link.get_by_test_id("link-figure")).to_have_text("7")  # 10 × 50 % + 5 × 50 %

    # 120 % is refused, in Chinese, and the 120 typed stays in the field.
    link.get_by_test_id("rule-value").fill("120")
    assert _post(page, "/rule", link.get_by_test_id("save-rule").click).status == 422
    message = link.get_by_test_id("error-message")
    expect(message).to_have_text("分配比例须为 0 到 100 之间的百分比，不能是 120。")
    expect(link.get_by_test_id("error")).to_contain_text("服务器拒绝了此操作：")
    expect(page.get_by_test_id("notice")).to_have_count(0)  # the last success is gone
    expect(link.get_by_test_id("rule-value")).to_have_value("120")
    expect(link).to_have_attribute("data-rule", "share:50")
    _pictures(page, "channels-refused-zh", backend)

    # Safety stock: 2 units of each tier held back from the store.
    safety = page.get_by_test_id("safety-row")
    safety.get_by_test_id("safety-input").fill("2")
    assert _post(page, "/safety", safety.get_by_test_id("save-safety").click).status == 200
    expect(page.get_by_test_id("safety-units")).to_have_text("2")
    expect(link.get_by_test_id("link-figure")).to_have_text("5")  # (10-2) // 2 + (5-2) // 2

    # The worker pushes the figure and reads the store's orders.
    _sync(runtime)
    assert ks.stock_of(ITEM, KS_SKU) == 5
    page.reload()
    expect(store).to_have_attribute("data-queued", "0")
    synced = store.get_by_test_id("synced-until").inner_text().strip()
    assert ZH_SECONDS.match(synced), synced  # Beijing time, to the second

    # The live lock: the live store gets the whole spot stock (less safety) of the SKU.
    page.get_by_test_id("live-sku").check()
    assert _post(page, "/channels/live", page.get_by_test_id("lock-live").click).status == 200
    expect(page.get_by_test_id("live-lock")).to_have_attribute("data-state", "on")
    expect(store.get_by_test_id("store-live")).to_be_visible()
    expect(link.get_by_test_id("link-rule")).to_contain_text("直播锁库")
    expect(link.get_by_test_id("link-figure")).to_have_text("9")  # 10-2 spot + 3 // 2 presale
    release = page.get_by_test_id("release-live")
    assert _post(page, "/channels/live/release", release.click).status == 200
    expect(page.get_by_test_id("live-lock")).to_have_attribute("data-state", "off")
    expect(store.get_by_test_id("store-live")).to_have_count(0)
    expect(link.get_by_test_id("link-figure")).to_have_text("5")

    # A sale the pool covers, then one it cannot (the store was set to 100 by hand).
    _sync(runtime)
    ks.add_order(ITEM, KS_SKU, 2, unit_price_fen=10_000)
    ks.set_stock(ITEM, KS_SKU, 100)
    over = ks.add_order(ITEM, KS_SKU, 20, unit_price_fen=10_000)
    _sync(runtime)
    page.reload()
    expect(store).to_have_attribute("data-incidents", "1")
    expect(store.get_by_test_id("platform-orders")).not_to_have_text("0")
    incident = page.get_by_test_id("incident-row")
    expect(incident).to_have_count(1)
    expect(incident).to_have_attribute("data-order", over)
    expect(incident).to_contain_text("快手旗舰店")
    fen = int(incident.get_attribute("data-fen") or "0")
    assert fen > 0
    expect(incident.get_by_test_id("incident-exposure")).to_contain_text("¥")
    expect(store.get_by_test_id("store-exposure")).to_have_attribute("data-fen", str(fen))
    _no_secret(page, ks)
    _pictures(page, "channels-zh", backend)

    switch_language(page, "en")
    expect(page.get_by_role("heading", name="Channels", exact=True)).to_be_visible()
    expect(store).to_contain_text("Kuaishou (快手)")
    expect(link.get_by_test_id("link-rule")).to_have_text("share 50 %")
    expect(incident.get_by_test_id("incident-exposure")).to_contain_text("CN¥")
    _no_secret(page, ks)
    _pictures(page, "channels-en", backend)


def test_a_viewer_reads_the_stores_and_is_told_why_it_cannot_change_them(
    page: Any, shop: Shop, channels_runtime: Runtime
) -> None:
    runtime = channels_runtime
    sku = shop.listed_tiered_sku("围巾", spot=3, presale=0)
    made = setup.add_channel(
        setup.AddChannel(
            shop.id,
            "douyin",
            "抖店",
            {"app_key": "dy-app", "app_secret": "dy-secret-77", "access_token": "dy-token-88"},
            server_url="http://127.0.0.1:9",
        ),
        runtime.uow(),
        runtime.secret_key(),
    )
    setup.link_sku(setup.LinkSku(shop.id, made.id, sku["id"], "5001", "6001"), runtime.uow())
    viewer = shop.http.post("/keys", json={"role": "viewer", "label": "看板"})
    assert viewer.status_code == 201, viewer.text
    sign_in(page, viewer.json()["api_key"])
    page.goto("/web/channels")
    expect(page.get_by_test_id("cannot-change")).to_contain_text("只能查看")
    expect(page.get_by_test_id("store-row")).to_have_attribute("data-platform", "douyin")
    expect(page.get_by_test_id("store-row")).to_contain_text("抖音")
    expect(page.get_by_test_id("link-row")).to_have_count(1)
    for form in ("store-form", "link-form", "rule-form", "safety-form", "live-form"):
        expect(page.get_by_test_id(form)).to_have_count(0)
    html = page.content()
    assert "dy-secret-77" not in html and "dy-token-88" not in html
    # A change sent anyway is refused by the server, in Chinese, and nothing changes.
    answer = page.request.post(
        f"/web/channels/{made.id}/skus/{sku['id']}/rule",
        headers={"HX-Request": "true"},
        form={"kind": "fixed", "value": "1"},
    )
    assert answer.status == 403
    assert "店主或运营" in answer.text()
    page.reload()
    expect(page.get_by_test_id("link-row")).to_have_attribute("data-rule", "none")


def test_an_operator_rules_the_stores_but_only_the_owner_adds_one(
    page: Any, shop: Shop, channels_runtime: Runtime
) -> None:
    runtime = channels_runtime
    sku = shop.listed_tiered_sku("手套", spot=4, presale=0)
    made = setup.add_channel(
        setup.AddChannel(
            shop.id,
            "taobao",
            "淘宝店",
            {"app_key": "tb-app", "app_secret": "tb-secret-55", "session": "tb-session-66"},
            server_url="http://127.0.0.1:9",
        ),
        runtime.uow(),
        runtime.secret_key(),
    )
    setup.link_sku(setup.LinkSku(shop.id, made.id, sku["id"], "7001", "8001"), runtime.uow())
    operator = shop.http.post("/keys", json={"role": "operator", "label": "运营"})
    assert operator.status_code == 201, operator.text
    sign_in(page, operator.json()["api_key"])
    page.goto("/web/channels")
    expect(page.get_by_test_id("cannot-change")).to_have_count(0)
    expect(page.get_by_test_id("store-form")).to_have_count(0)
    expect(page.get_by_test_id("owner-adds-stores")).to_contain_text("只有店主")
    expect(page.get_by_test_id("store-row")).to_contain_text("淘宝")
    # The operator may rule the store's SKUs …
    link = page.get_by_test_id("link-row")
    link.get_by_test_id("rule-kind").select_option("fixed")
    link.get_by_test_id("rule-value").fill("3")
    assert _post(page, "/rule", link.get_by_test_id("save-rule").click).status == 200
    expect(link).to_have_attribute("data-rule", "fixed:3")
    expect(link.get_by_test_id("link-rule")).to_have_text("固定 3 件")
    # … but a store sent anyway is refused, in Chinese, and none is added.
    answer = page.request.post(
        "/web/channels/stores",
        headers={"HX-Request": "true"},
        form={"platform": "taobao", "name": "第二家", "app_key": "a", "app_secret": "b"},
    )
    assert answer.status == 403
    assert "只有店主可以添加店铺" in answer.text()
    page.reload()
    expect(page.get_by_test_id("store-row")).to_have_count(1)
