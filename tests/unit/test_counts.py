"""Stock counts: pure rules — variance, the adjustment rule, reading count sheets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from tierstock.domain.access import ForbiddenError
from tierstock.domain.counts import (
    CountLine,
    CountStatus,
    SpotAdjustment,
    StockCount,
    VarianceReport,
    duplicate_rows,
    ensure_may_approve,
    parse_counted,
    sku_variances,
)
from tierstock.domain.errors import InvalidValueError
from tierstock.services.count_import import (
    columns,
    parse_sheet,
    read_sheet,
    variance_xlsx,
)

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def line(
    sku_id: int,
    counted: int,
    system: int,
    *,
    minutes: int = 0,
    location: str = "",
    cost: int | None = None,
) -> CountLine:
    return CountLine(
        sku_id,
        f"SKU-{sku_id}",
        location,
        counted,
        system,
        T0 + timedelta(minutes=minutes),
        "",
        cost,
    )


# --- quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected", [(12, 12), ("12", 12), (12.0, 12), (" 1,200 ", 1200), ("0", 0), ("3.0", 3)]
)
def test_counted_quantities_are_read_as_warehouse_sheets_hold_them(raw, expected):
    assert parse_counted(raw) == expected


@pytest.mark.parametrize(
    "raw, words",
    [
        (None, "missing"),
        ("", "missing"),
        ("-3", "negative"),
        (-1, "negative"),
        ("十二", "not a number"),
        (2.5, "whole"),
        ("2.5", "whole"),
        (True, "not a number"),
    ],
)
def test_blank_negative_fractional_or_text_quantities_are_refused(raw, words):
    with pytest.raises(ValueError, match=words):
        parse_counted(raw)


def test_every_copy_of_a_duplicated_sku_and_location_is_refused():
    dupes = duplicate_rows([(2, ("A", "")), (3, ("B", "")), (4, ("A", "")), (5, ("A", "X"))])
    assert dupes == {2: [2, 4], 4: [2, 4]}


# --- variance ------------------------------------------------------------------------------


def test_a_sku_counted_at_two_locations_sums_them_against_the_latest_system_figure():
    [v] = sku_variances(
        [
            line(1, 4, 10, minutes=0, location="A-01", cost=500),
            line(1, 5, 9, minutes=5, location="B-02"),
        ]
    )
    assert (v.counted, v.system_on_hand, v.variance) == (9, 9, 0)
    assert v.locations == ("A-01", "B-02") and v.unit_cost_fen == 500


def test_the_report_gives_quantity_value_and_share_of_skus_off():
    count = StockCount(1, 1, "main", CountStatus.OPEN, None, T0, "me")
    report = VarianceReport(
        count,
        sku_variances(
            [
                line(1, 8, 10, cost=1_000),
                line(2, 5, 5, cost=200),
                line(3, 7, 4),
                line(4, 3, 2, cost=50),
            ]
        ),
        ("SKU-9",),
    )
    assert report.skus_off == 3 and report.share_off == 0.75
    assert (report.net_quantity, report.gross_quantity) == (2, 6)
    assert (report.net_value_fen, report.gross_value_fen) == (-1_950, 2_050)
    assert report.without_cost == ("SKU-3",)


def test_an_empty_count_has_no_share_off():
    count = StockCount(1, 1, "main", CountStatus.OPEN, None, T0, "me")
    assert VarianceReport(count, (), ()).share_off == 0.0


# --- the adjustment rule -------------------------------------------------------------------


def test_a_variance_moves_the_spot_quantity_by_exactly_that_much():
    a = SpotAdjustment(quantity_before=20, sold=5, variance=-3)
    assert (a.target, a.quantity_after, a.delta, a.shortfall) == (17, 17, -3, 0)


def test_stock_counted_below_what_is_promised_stops_at_sold_and_reports_the_shortfall():
    a = SpotAdjustment(quantity_before=20, sold=12, variance=-15)
    assert (a.quantity_after, a.delta, a.shortfall) == (12, -8, 7)


def test_a_tier_already_below_sold_is_never_lowered_further():
    a = SpotAdjustment(quantity_before=10, sold=10, variance=-4)
    assert (a.quantity_after, a.delta, a.shortfall) == (10, 0, 4)


@pytest.mark.parametrize("role", ["owner", "warehouse"])
def test_the_owner_and_the_warehouse_may_approve(role):
    ensure_may_approve(role)


@pytest.mark.parametrize("role", ["operator", "viewer", "supplier", "nobody"])
def test_other_roles_may_not_approve(role):
    with pytest.raises(ForbiddenError):
        ensure_may_approve(role)


# --- sheets --------------------------------------------------------------------------------


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    ws = book.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    book.save(path)
    return path


def test_chinese_headers_in_an_xlsx_are_understood(tmp_path):
    path = _xlsx(
        tmp_path / "盘点.xlsx",
        [
            ["商品名称", "商品编码", "实盘数量", "库位", "盘点人", "成本价"],
            ["羊毛衫", "WOOL-M", 12, "A-01", "小王", "35.5"],
            ["羊毛衫", 10086, "7", "", "小李", None],
        ],
    )
    parsed = parse_sheet(read_sheet(path), SHANGHAI)
    assert parsed.errors == ()
    [(row2, a), (row3, b)] = parsed.entries
    assert (row2, a.sku_code, a.counted, a.location, a.counter, a.unit_cost_fen) == (
        2,
        "WOOL-M",
        12,
        "A-01",
        "小王",
        3_550,
    )
    assert (row3, b.sku_code, b.counted, b.unit_cost_fen) == (3, "10086", 7, None)


def test_english_headers_in_a_gbk_csv_are_understood(tmp_path):
    path = tmp_path / "count.csv"
    path.write_bytes(
        "SKU_Code,Counted,Location,Counter,Cost_fen,Counted_at\n"
        "A,3,甲区,张三,120,2026-11-26 10:30\n".encode("gb18030")
    )
    [(row, e)] = parse_sheet(read_sheet(path), SHANGHAI).entries
    assert (row, e.sku_code, e.counted, e.location, e.counter, e.unit_cost_fen) == (
        2,
        "A",
        3,
        "甲区",
        "张三",
        120,
    )
    assert e.counted_at == datetime(2026, 11, 26, 2, 30, tzinfo=UTC)


def test_bad_rows_are_reported_by_spreadsheet_row_and_field(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("sku_code,盘点数量\nA,3\n,4\nB,-1\nC,abc\n\nD,\n", encoding="utf-8-sig")
    parsed = parse_sheet(read_sheet(path), SHANGHAI)
    assert [r for r, _ in parsed.entries] == [2]
    assert [(e.row, e.field) for e in parsed.errors] == [
        (3, "sku_code"),
        (4, "counted"),
        (5, "counted"),
        (7, "counted"),
    ]


def test_a_sheet_without_a_quantity_column_is_refused_whole():
    with pytest.raises(InvalidValueError, match="counted") as exc:
        columns(["商品编码", "商品名称"])
    assert exc.value.field == "header"


def test_a_file_that_is_not_a_spreadsheet_is_refused(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(InvalidValueError, match="XLSX"):
        read_sheet(path)


def test_the_variance_workbook_holds_one_row_per_sku_and_the_totals(tmp_path):
    count = StockCount(1, 1, "main", CountStatus.OPEN, None, T0, "me")
    report = VarianceReport(count, sku_variances([line(1, 8, 10, cost=1_000)]), ())
    path = tmp_path / "v.xlsx"
    path.write_bytes(variance_xlsx(report, SHANGHAI))
    ws = load_workbook(path).worksheets[0]
    assert [c.value for c in ws[2]][:6] == ["SKU-1", None, 8, 10, datetime(2026, 11, 26, 10), -2]
    assert ws[2][7].value == -20.0
    labels = {r[0].value: r[1].value for r in ws.iter_rows(min_row=4) if r[0].value}
    assert labels["SKUs off 差异SKU"] == 1


def test_a_csv_saved_with_old_mac_line_ends_is_read_row_by_row(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"sku_code,counted\rCUP-1,7\rCOAT-2,3\r")
    parsed = parse_sheet(read_sheet(path), SHANGHAI)
    assert [(e.sku_code, e.counted) for _, e in parsed.entries] == [("CUP-1", 7), ("COAT-2", 3)]


def test_a_file_that_is_not_csv_is_refused_naming_the_file_not_a_crash(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"sku_code,counted\n" + b"x" * 200_000 + b",1\n")
    with pytest.raises(InvalidValueError) as refused:
        read_sheet(path)
    assert refused.value.field == "file"
