"""Stock counts on SQLite and PostgreSQL (issue 4): sales during the count, bad sheets,
approval below what is promised, events."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from tierstock.cli import counts as cli_counts
from tierstock.cli import events as cli_events
from tierstock.cli import support as cli_support
from tierstock.domain.access import ForbiddenError
from tierstock.domain.counts import CountClosedError, CountEntry, CountOpenError, CountRowsError
from tierstock.domain.errors import InvalidValueError
from tierstock.domain.ledger import LedgerKind
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import (
    catalogue,
    count_approval,
    count_import,
    counts,
    placing,
    shops,
    stock,
)
from tierstock.services.shipping import ShipLine, ship_line
from tierstock.services.verify import verify_ledger

SPOT_48H = SalesFormSpec(SalesForm.SPOT, 48)


def _shop(runtime, stock_by_code: dict[str, int]) -> tuple[int, dict[str, int]]:
    shop = shops.create_shop(shops.CreateShop("盘点小店"), runtime.uow()).shop
    product = catalogue.create_product(catalogue.CreateProduct(shop.id, "mug"), runtime.uow())
    ids = {}
    for code, spot in stock_by_code.items():
        sku = catalogue.add_sku(
            catalogue.AddSku(shop.id, product.id, code, 2_990, SPOT_48H, spot_stock=spot),
            runtime.uow(),
        )
        ids[code] = sku.id
    catalogue.set_listed(catalogue.SetListed(shop.id, product.id, True), runtime.uow())
    return shop.id, ids


def _sell(runtime, shop_id: int, sku_id: int, quantity: int) -> int:
    placed = placing.place_order(
        placing.PlaceOrder(shop_id, uuid.uuid4().hex, (LineRequest(sku_id, quantity),)),
        runtime.uow(),
    )
    return placed.order.id


def _ship(runtime, shop_id: int, order_id: int) -> None:
    ship_line(ShipLine(shop_id, order_id, 1, "SF", f"SF{order_id}"), runtime.uow())


def _spot(runtime, shop_id: int, sku_id: int):
    return stock.read_stock(shop_id, sku_id, runtime.uow(readonly=True))[Tier.SPOT]


def _enter(runtime, shop_id, count_id, *entries: CountEntry):
    return counts.record_counts(
        counts.RecordCounts(shop_id, count_id, entries, "clerk"), runtime.uow()
    )


def _approve(runtime, shop_id, count_id, role="warehouse"):
    cmd = count_approval.ApproveCount(shop_id, count_id, role, "clerk")
    return count_approval.approve_count(cmd, runtime.uow())


def _no_mismatch(runtime, shop_id):
    checked, bad = verify_ledger(runtime.uow(readonly=True), shop_id)
    assert checked and bad == []


def test_a_count_with_sales_in_between_adjusts_by_the_variance_when_counted(runtime, clock):
    shop_id, ids = _shop(runtime, {"CUP": 20, "BOWL": 10})
    t0 = clock.now
    count = counts.open_count(counts.OpenCount(shop_id, actor="clerk"), runtime.uow())
    clock.now = t0 + timedelta(minutes=1)
    first = _sell(runtime, shop_id, ids["CUP"], 2)
    clock.now = t0 + timedelta(minutes=2)
    _ship(runtime, shop_id, first)
    clock.now = t0 + timedelta(minutes=3)
    _enter(runtime, shop_id, count.id, CountEntry("CUP", 16, "A-01", "小王", 1_000))
    clock.now = t0 + timedelta(minutes=10)  # sales go on after the shelf was counted
    second = _sell(runtime, shop_id, ids["CUP"], 4)
    clock.now = t0 + timedelta(minutes=11)
    _ship(runtime, shop_id, second)
    clock.now = t0 + timedelta(minutes=12)  # BOWL was counted at minute 5, entered later
    _enter(runtime, shop_id, count.id, CountEntry("BOWL", 12, counted_at=t0 + timedelta(minutes=5)))

    report = counts.variance_report(shop_id, count.id, runtime.uow(readonly=True))
    by_code = {v.sku_code: v for v in report.skus}
    assert (by_code["CUP"].system_on_hand, by_code["CUP"].variance) == (18, -2)
    assert (by_code["BOWL"].system_on_hand, by_code["BOWL"].variance) == (10, 2)
    assert (report.skus_off, report.share_off, report.net_value_fen) == (2, 1.0, -2_000)
    assert report.without_cost == ("BOWL",)

    clock.now = t0 + timedelta(minutes=20)
    done = _approve(runtime, shop_id, count.id)
    assert [(a.sku_code, a.spot.delta) for a in done.adjustments] == [("CUP", -2), ("BOWL", 2)]
    assert done.flagged == ()
    cup = _spot(runtime, shop_id, ids["CUP"])
    assert (cup.quantity, cup.sold) == (18, 6)  # 16 counted − 4 shipped since = 12 on hand
    assert _spot(runtime, shop_id, ids["BOWL"]).quantity == 12
    ledger = stock.read_ledger(shop_id, ids["CUP"], runtime.uow(readonly=True))
    assert [(e.kind, e.quantity_delta) for e in ledger][-1] == (LedgerKind.ADJUSTMENT, -2)
    _no_mismatch(runtime, shop_id)

    events = counts.read_events(shop_id, runtime.uow(readonly=True))
    assert [e.topic for e in events] == ["stock.adjusted", "stock.adjusted", "count.approved"]
    assert events[0].payload["quantity_delta"] == -2 and events[0].payload["available"] == 12
    assert counts.read_events(shop_id, runtime.uow(readonly=True), after=events[1].id) == [
        events[2]
    ]


def test_approval_below_what_is_promised_flags_the_affected_orders(runtime, clock):
    shop_id, ids = _shop(runtime, {"COAT": 10})
    count = counts.open_count(counts.OpenCount(shop_id, sku_ids=(ids["COAT"],)), runtime.uow())
    shipped, *open_orders = [_sell(runtime, shop_id, ids["COAT"], 2) for _ in range(3)]
    _ship(runtime, shop_id, shipped)
    clock.now += timedelta(minutes=1)
    _enter(runtime, shop_id, count.id, CountEntry("COAT", 3))  # system: 10 − 2 shipped = 8

    done = _approve(runtime, shop_id, count.id, role="owner")

    [coat] = done.flagged
    assert (coat.variance, coat.spot.shortfall, coat.spot.delta) == (-5, 1, -4)
    assert sorted(p.order_id for p in coat.affected) == sorted(open_orders)
    spot = _spot(runtime, shop_id, ids["COAT"])
    assert (spot.quantity, spot.sold) == (6, 6)  # never below sold: the CHECK holds
    _no_mismatch(runtime, shop_id)
    short = counts.read_events(shop_id, runtime.uow(readonly=True), topic="stock.short_of_promises")
    assert [e.payload["affected_orders"] for e in short] == [sorted(open_orders)]
    assert short[0].payload["shortfall"] == 1


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    ws = book.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    book.save(path)
    return path


BAD_SHEET: list[list[object]] = [
    ["商品编码", "盘点数量", "库位", "盘点人"],
    ["TEA", 5, "A-01", "小王"],  # good
    ["NOPE", 3, "", ""],  # unknown SKU
    ["TEA", -2, "B-01", ""],  # negative
    ["MILK", "十", "", ""],  # not a number
    ["MILK", 4, "C-01", ""],  # duplicate …
    ["MILK", 6, "C-01", ""],  # … of the row above
    ["SUGAR", 9, "", ""],  # good
]


def _import(runtime, shop_id, count_id, path, accept=False):
    sheet = count_import.read_sheet(path)
    parsed = count_import.parse_sheet(sheet, ZoneInfo("Asia/Shanghai"))
    return counts.import_counts(
        counts.RecordCounts(
            shop_id,
            count_id,
            tuple(e for _, e in parsed.entries),
            "clerk",
            accept,
            tuple(r for r, _ in parsed.entries),
            parsed.errors,
        ),
        runtime.uow(),
    )


def test_a_bad_xlsx_gives_a_row_report_and_changes_nothing(runtime, tmp_path):
    shop_id, _ = _shop(runtime, {"TEA": 5, "MILK": 5, "SUGAR": 5})
    count = counts.open_count(counts.OpenCount(shop_id), runtime.uow())
    path = _xlsx(tmp_path / "盘点表.xlsx", BAD_SHEET)

    done = _import(runtime, shop_id, count.id, path)

    assert not done.committed and done.saved == 0
    assert [(e.row, e.field) for e in done.refused] == [
        (3, "sku_code"),
        (4, "counted"),
        (5, "counted"),
        (6, "sku_code"),
        (7, "sku_code"),
    ]
    assert "unknown SKU 'NOPE'" in done.refused[0].message
    assert "rows 6, 7" in done.refused[3].message
    assert counts.variance_report(shop_id, count.id, runtime.uow(readonly=True)).skus == ()
    assert counts.read_events(shop_id, runtime.uow(readonly=True)) == []

    kept = _import(runtime, shop_id, count.id, path, accept=True)
    assert kept.committed and kept.saved == 2 and len(kept.refused) == 5
    report = counts.variance_report(shop_id, count.id, runtime.uow(readonly=True))
    assert [(v.sku_code, v.counted) for v in report.skus] == [("TEA", 5), ("SUGAR", 9)]
    assert report.not_counted == ("MILK",)


def test_the_cli_import_reports_rows_and_saves_nothing_then_approves(
    runtime, tmp_path, monkeypatch
):
    monkeypatch.setattr(cli_support, "runtime_factory", lambda: runtime)
    shop_id, ids = _shop(runtime, {"TEA": 5, "MILK": 5, "SUGAR": 5})
    cli = CliRunner()
    opened = cli.invoke(cli_counts.app, ["open", "--shop", str(shop_id)])
    assert opened.exit_code == 0, opened.output
    bad = cli.invoke(
        cli_counts.app,
        [
            "import",
            str(_xlsx(tmp_path / "b.xlsx", BAD_SHEET)),
            "--shop",
            str(shop_id),
            "--report",
            str(tmp_path / "rows.csv"),
        ],
    )
    assert bad.exit_code == 1
    assert "nothing saved" in bad.output and "NOPE" in bad.output
    assert (tmp_path / "rows.csv").read_text(encoding="utf-8-sig").count("\n") == 6
    good = tmp_path / "good.csv"
    good.write_text("sku_code,counted,location\nTEA,4,\nMILK,5,\nSUGAR,7,\n", encoding="utf-8")
    ok = cli.invoke(cli_counts.app, ["import", str(good), "--shop", str(shop_id)])
    assert ok.exit_code == 0 and "saved 3 line(s)" in ok.output, ok.output
    [count] = counts.list_counts(shop_id, runtime.uow(readonly=True))
    xlsx = tmp_path / "variance.xlsx"
    shown = cli.invoke(
        cli_counts.app,
        ["variance", str(count.id), "--shop", str(shop_id), "--xlsx", str(xlsx)],
    )
    assert shown.exit_code == 0 and "2 of 3 SKU(s) off" in shown.output and xlsx.stat().st_size
    approved = cli.invoke(cli_counts.app, ["approve", str(count.id), "--shop", str(shop_id)])
    assert approved.exit_code == 0 and "event(s) published" in approved.output
    assert _spot(runtime, shop_id, ids["SUGAR"]).quantity == 7
    listed = cli.invoke(cli_events.app, ["--shop", str(shop_id), "--json"])
    assert listed.exit_code == 0 and listed.output.count("stock.adjusted") == 2


def test_entries_are_all_or_nothing_and_a_recount_replaces_the_figure(runtime):
    shop_id, _ = _shop(runtime, {"PEN": 5, "INK": 5})
    count = counts.open_count(counts.OpenCount(shop_id, sku_codes=("PEN",)), runtime.uow())
    with pytest.raises(CountRowsError) as exc:
        _enter(runtime, shop_id, count.id, CountEntry("PEN", 4), CountEntry("INK", 1))
    assert [(r.row, r.field) for r in exc.value.rows] == [(2, "sku_code")]
    assert "not in this count" in exc.value.message and exc.value.field == "entries[1].sku_code"
    _enter(runtime, shop_id, count.id, CountEntry("PEN", 4))
    _enter(runtime, shop_id, count.id, CountEntry("PEN", 6))
    [pen] = counts.variance_report(shop_id, count.id, runtime.uow(readonly=True)).skus
    assert (pen.counted, pen.variance) == (6, 1)


def test_one_open_count_per_warehouse_and_only_owner_or_warehouse_approve(runtime):
    shop_id, _ = _shop(runtime, {"HAT": 5})
    count = counts.open_count(counts.OpenCount(shop_id), runtime.uow())
    with pytest.raises(CountOpenError):
        counts.open_count(counts.OpenCount(shop_id), runtime.uow())
    with pytest.raises(InvalidValueError):
        counts.open_count(counts.OpenCount(shop_id, warehouse="north"), runtime.uow())
    with pytest.raises(ForbiddenError):
        _approve(runtime, shop_id, count.id, role="operator")
    _enter(runtime, shop_id, count.id, CountEntry("HAT", 5))
    assert _approve(runtime, shop_id, count.id).adjustments == ()  # nothing off
    with pytest.raises(CountClosedError):
        _approve(runtime, shop_id, count.id)
    with pytest.raises(CountClosedError):
        _enter(runtime, shop_id, count.id, CountEntry("HAT", 1))
    assert counts.open_count(counts.OpenCount(shop_id), runtime.uow()).id != count.id


def test_a_shipment_recorded_late_but_dated_before_the_count_is_taken_into_account(runtime, clock):
    shop_id, ids = _shop(runtime, {"LAMP": 10})
    t0 = clock.now
    count = counts.open_count(counts.OpenCount(shop_id), runtime.uow())
    clock.now = t0 + timedelta(minutes=1)
    order_id = _sell(runtime, shop_id, ids["LAMP"], 2)
    clock.now = t0 + timedelta(minutes=3)  # the 2 left at minute 2, not yet recorded
    _enter(runtime, shop_id, count.id, CountEntry("LAMP", 8))
    clock.now = t0 + timedelta(minutes=5)
    ship_line(
        ShipLine(shop_id, order_id, 1, "SF", "SF9", shipped_at=t0 + timedelta(minutes=2)),
        runtime.uow(),
    )
    [lamp] = counts.variance_report(shop_id, count.id, runtime.uow(readonly=True)).skus
    assert (lamp.system_on_hand, lamp.variance) == (8, 0)
    assert _approve(runtime, shop_id, count.id).adjustments == ()


def test_approval_during_an_order_burst_never_oversells_and_matches_the_ledger(runtime, clock):
    shop_id, ids = _shop(runtime, {"HOT": 100})
    count = counts.open_count(counts.OpenCount(shop_id), runtime.uow())
    clock.now += timedelta(minutes=1)
    _enter(runtime, shop_id, count.id, CountEntry("HOT", 50))  # 50 went missing
    clock.now += timedelta(minutes=1)
    refused: list[Exception] = []

    def buy(n: int) -> None:
        for _ in range(n):
            try:
                _sell(runtime, shop_id, ids["HOT"], 1)
            except Exception as exc:  # short of stock after the approval: expected
                refused.append(exc)

    with ThreadPoolExecutor(max_workers=6) as pool:
        buyers = [pool.submit(buy, 12) for _ in range(5)]
        done = _approve(runtime, shop_id, count.id)
        for b in buyers:
            b.result()
    [hot] = done.adjustments
    spot = _spot(runtime, shop_id, ids["HOT"])
    assert spot.quantity == max(50, hot.spot.sold)
    assert spot.sold == 60 - len(refused) and spot.sold <= spot.quantity
    assert all(getattr(e, "code", None) == "insufficient_stock" for e in refused)
    _no_mismatch(runtime, shop_id)
