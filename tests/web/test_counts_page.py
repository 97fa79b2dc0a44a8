"""The stock-count page in a real browser: open, upload a sheet, variance, approve."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from playwright.sync_api import expect

from tests.web.conftest import Shop, screenshot, sign_in, switch_language


def _sheet(path: Path, rows: list[list[object]]) -> Path:
    """A count sheet as warehouse staff keep it: Chinese headers, cost in yuan."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "盘点表"
    ws.append(["商品编码", "实盘数量", "库位", "盘点人", "成本价"])
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def _spot(shop: Shop, sku_id: int) -> dict[str, int]:
    r = shop.http.get(f"/skus/{sku_id}/stock")
    assert r.status_code == 200, r.text
    spot: dict[str, int] = next(t for t in r.json()["tiers"] if t["tier"] == "spot")
    return spot


def _upload(page: Any, path: Path, *, keep_good_rows: bool) -> int:
    form = page.get_by_test_id("sheet-form")
    form.get_by_test_id("sheet-file").set_input_files(str(path))
    form.get_by_test_id("keep-good-rows").set_checked(keep_good_rows)
    with page.expect_response(lambda r: r.url.endswith("/sheet")) as answer:
        form.get_by_test_id("upload-sheet").click()
    status: int = answer.value.status
    return status


def test_a_count_sheet_is_checked_row_by_row_then_approved_into_stock(
    page: Any, shop: Shop, backend: str, tmp_path: Path
) -> None:
    coat = shop.listed_tiered_sku("羊绒大衣", spot=10, presale=5)
    cup = shop.listed_tiered_sku("保温杯", spot=20, presale=0)
    scarf = shop.listed_tiered_sku("围巾", spot=6, presale=0)
    order = shop.http.post(
        "/orders",
        json={"lines": [{"sku_id": coat["id"], "quantity": 3}]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert order.status_code in (200, 201), order.text

    sign_in(page, shop.key)
    page.get_by_role("link", name="库存盘点").click()
    expect(page.get_by_role("heading", name="库存盘点", exact=True)).to_be_visible()
    page.get_by_test_id("count-note").fill("月末盘点")
    page.get_by_test_id("open-count-submit").click()
    count = page.get_by_test_id("count")
    expect(count.get_by_test_id("count-status")).to_have_text("进行中")
    count_id = count.get_attribute("data-count-id")
    assert count_id

    # One unknown SKU: the row is named, and nothing is saved.
    rows: list[list[object]] = [
        [coat["code"], 1, "A-01", "小王", 120],
        ["NO-SUCH-SKU", 4, "A-02", "小王", 10],
        [cup["code"], 23, "B-01", "小李", 15.5],
        [scarf["code"], 6, "B-02", "小李", 30],
    ]
    sheet = _sheet(tmp_path / "盘点表.xlsx", rows)
    assert _upload(page, sheet, keep_good_rows=False) == 422
    result = page.get_by_test_id("import-result")
    expect(result).to_have_attribute("data-committed", "false")
    refused = result.get_by_test_id("refused-row")
    expect(refused).to_have_count(1)
    expect(refused).to_have_attribute("data-row", "3")
    expect(refused).to_contain_text("NO-SUCH-SKU")
    expect(refused).to_contain_text("规格编码")
    expect(page.get_by_test_id("no-lines")).to_be_visible()
    assert shop.http.get(f"/counts/{count_id}/variance").json()["skus"] == []

    # Keep the good rows: three SKUs saved, the bad one still reported.
    assert _upload(page, sheet, keep_good_rows=True) == 200
    result = page.get_by_test_id("import-result")
    expect(result).to_have_attribute("data-saved", "3")
    expect(result.get_by_test_id("refused-row")).to_have_count(1)
    variance = page.get_by_test_id("variance")
    coat_row = variance.locator(f"[data-sku-code='{coat['code']}']")
    expect(coat_row).to_have_attribute("data-variance", "-9")  # 10 on hand, 1 counted
    expect(coat_row).to_have_attribute("data-value-fen", "-108000")
    expect(coat_row).to_contain_text("-¥1,080.00")
    expect(variance.locator(f"[data-sku-code='{cup['code']}']")).to_have_attribute(
        "data-variance", "3"
    )
    expect(page.get_by_test_id("skus-off")).to_have_text("2")
    expect(page.get_by_test_id("share-off")).to_have_text("66.7%")
    expect(page.get_by_test_id("net-value")).to_have_text("-¥1,033.50")  # -1080 + 46.50
    switch_language(page, "en")
    expect(page.get_by_role("heading", name="Stock counts", exact=True)).to_be_visible()
    expect(
        page.get_by_test_id("variance").locator(f"[data-sku-code='{coat['code']}']")
    ).to_contain_text("-CN¥1,080.00")
    expect(page.get_by_test_id("approve")).to_be_enabled()
    switch_language(page, "zh_CN")

    page.get_by_test_id("approve-reason").fill("月末盘点")
    with page.expect_response(lambda r: r.url.endswith("/approve")) as answer:
        page.get_by_test_id("approve").click()
    assert answer.value.status == 200
    expect(page.get_by_test_id("count-status")).to_have_text("已审核")
    changes = page.get_by_test_id("changes")
    expect(changes.get_by_test_id("change-row")).to_have_count(2)
    flagged = page.get_by_test_id("flagged-sku")
    expect(flagged).to_have_count(1)
    expect(flagged).to_have_attribute("data-sku-code", coat["code"])
    expect(flagged).to_have_attribute("data-orders", str(order.json()["id"]))

    # Stock changed: the cup to its count, the coat only down to what is promised.
    assert _spot(shop, cup["id"])["quantity"] == 23
    coat_spot = _spot(shop, coat["id"])
    assert coat_spot["quantity"] == 3 and coat_spot["sold"] == 3
    assert _spot(shop, scarf["id"])["quantity"] == 6
    screenshot(page, "counts-zh", backend)

    switch_language(page, "en")
    expect(page.get_by_role("heading", name="Short of promises")).to_be_visible()
    expect(page.get_by_test_id("count-status")).to_have_text("approved")
    screenshot(page, "counts-en", backend)


def test_an_operator_enters_counts_but_is_told_why_it_cannot_approve(
    page: Any, shop: Shop, tmp_path: Path
) -> None:
    sku = shop.listed_tiered_sku("帆布袋", spot=5, presale=0)
    made = shop.http.post("/keys", json={"role": "operator", "label": "运营"})
    assert made.status_code == 201, made.text
    sign_in(page, made.json()["api_key"])
    page.goto("/web/counts")
    page.get_by_test_id("open-count-submit").click()
    text = tmp_path / "count.txt"
    text.write_text("sku_code,counted\n", encoding="utf-8")
    assert _upload(page, text, keep_good_rows=False) == 422
    expect(page.get_by_test_id("error")).to_have_attribute("data-code", "invalid_value")
    assert (
        _upload(
            page,
            _sheet(tmp_path / "count.xlsx", [[sku["code"], 4, "", "", 8]]),
            keep_good_rows=False,
        )
        == 200
    )
    expect(page.get_by_test_id("variance-row")).to_have_attribute("data-variance", "-1")
    expect(page.get_by_test_id("cannot-approve")).to_contain_text("运营")
    expect(page.get_by_test_id("approve")).to_be_disabled()
    assert _spot(shop, sku["id"])["quantity"] == 5
