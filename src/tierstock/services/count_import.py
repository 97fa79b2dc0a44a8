"""Count sheets as warehouse staff keep them (CSV or XLSX), and the variance workbook.

A sheet has one header row (Chinese or English: 商品编码 / sku_code, 盘点数量 /
counted, optional 库位 / location, 盘点人 / counter, 盘点时间 / counted_at, 成本价 (yuan)
or 成本(分) / cost_fen); other columns are ignored. Each data row either becomes a
:class:`CountEntry` or a :class:`RowError` naming its spreadsheet row. Nothing here
touches the database: :func:`tierstock.services.counts.record_counts` decides what is saved.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from tierstock.domain.counts import CountEntry, RowError, VarianceReport, parse_counted
from tierstock.domain.errors import InvalidValueError
from tierstock.services.csv_rows import csv_rows

HEADERS: dict[str, tuple[str, ...]] = {
    "sku_code": (
        "sku_code",
        "sku",
        "code",
        "skucode",
        "商品编码",
        "sku编码",
        "规格编码",
        "商家编码",
        "货号",
        "编码",
    ),
    "counted": (
        "counted",
        "counted_quantity",
        "quantity",
        "qty",
        "count",
        "盘点数量",
        "实盘数量",
        "实盘数",
        "盘点数",
        "数量",
    ),
    "location": ("location", "bin", "库位", "货位", "储位"),
    "counter": ("counter", "counted_by", "盘点人", "盘点员"),
    "counted_at": ("counted_at", "count_time", "盘点时间"),
    "unit_cost_fen": ("cost_fen", "unit_cost_fen", "成本(分)", "单位成本(分)"),
    "unit_cost": ("cost", "unit_cost", "成本", "成本价", "单位成本"),
}
REQUIRED = ("sku_code", "counted")
Progress = Callable[[int], None]


def _norm(name: object) -> str:
    text = str(name or "").strip().lower().replace("（", "(").replace("）", ")")
    return "".join(ch for ch in text if ch not in " _-\u3000")


_ALIASES = {_norm(alias): field for field, names in HEADERS.items() for alias in names}


@dataclass(frozen=True)
class Sheet:
    """A file's rows: the header (row ``header_row``) and data rows with their numbers."""

    header_row: int
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[object, ...]], ...]


def _blank(values: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _sheet(numbered: list[tuple[int, tuple[object, ...]]]) -> Sheet:
    filled = [(n, v) for n, v in numbered if not _blank(v)]
    if not filled:
        raise InvalidValueError("the file has no rows", field="file")
    (header_row, header), data = filled[0], filled[1:]
    return Sheet(header_row, tuple(str(h or "").strip() for h in header), tuple(data))


def _csv_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM) or, as Excel in China saves CSV, GB18030."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidValueError(
            "the CSV file is neither UTF-8 nor GB18030 text", field="file"
        ) from None


def read_sheet(path: Path, on_row: Progress | None = None) -> Sheet:
    """Rows of a ``.csv`` or the first worksheet of an ``.xlsx``."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = _csv_text(path.read_bytes())
        numbered = [
            (i, tuple[object, ...](r)) for i, r in enumerate(csv_rows(text, "file"), start=1)
        ]
        if on_row:
            on_row(len(numbered))
        return _sheet(numbered)
    if suffix not in (".xlsx", ".xlsm"):
        raise InvalidValueError("import a .csv or .xlsx file", field="file")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidValueError(
            f"not a readable XLSX file ({type(exc).__name__})", field="file"
        ) from None
    try:
        ws = book.worksheets[0]
        numbered = []
        for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
            numbered.append((i, tuple(values)))
            if on_row:
                on_row(1)
    finally:
        book.close()
    return _sheet(numbered)


def sheet_rows(path: Path) -> int:
    """How many rows a file holds (for a progress bar's total; 0 if unknown)."""
    if path.suffix.lower() == ".csv":
        return 1
    try:
        book = load_workbook(path, read_only=True)
        try:
            return int(book.worksheets[0].max_row or 0)
        finally:
            book.close()
    except Exception:
        return 0


def columns(header: Sequence[str]) -> dict[str, int]:
    """Field → column index; a missing required column refuses the whole file."""
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        field = _ALIASES.get(_norm(name))
        if field and field not in found:
            found[field] = i
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        names = " / ".join(HEADERS[missing[0]][:1] + HEADERS[missing[0]][4:6])
        raise InvalidValueError(
            f"no column for {missing[0]} (e.g. {names}); headers found: "
            f"{', '.join(h for h in header if h) or 'none'}",
            field="header",
        )
    return found


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code Excel turned into a number
    return str(value).strip()


def _cost_fen(value: object, in_yuan: bool) -> int | None:
    if value is None or not _text(value):
        return None
    try:
        amount = Decimal(_text(value).replace(",", "").lstrip("¥￥"))
    except InvalidOperation:
        raise ValueError(f"cost {_text(value)!r} is not a number") from None
    fen = amount * 100 if in_yuan else amount
    if fen < 0 or fen != fen.to_integral_value():
        raise ValueError(f"cost {_text(value)} is negative or finer than one fen")
    return int(fen)


def _when(value: object, zone: ZoneInfo) -> datetime | None:
    """A datetime cell, or ISO text; a time without zone is the shop's local time."""
    if value is None or not _text(value):
        return None
    if isinstance(value, datetime):
        at = value
    else:
        try:
            at = datetime.fromisoformat(_text(value).replace("/", "-"))
        except ValueError:
            raise ValueError(f"counted_at {_text(value)!r} is not a date and time") from None
    return at if at.tzinfo else at.replace(tzinfo=zone)


def _entry(cells: tuple[object, ...], cols: dict[str, int], zone: ZoneInfo) -> CountEntry:
    def cell(field: str) -> object:
        i = cols.get(field)
        return cells[i] if i is not None and i < len(cells) else None

    code = _text(cell("sku_code"))
    if not code:
        raise _Bad("sku_code", "SKU code is missing")
    try:
        counted = parse_counted(cell("counted"))
    except ValueError as exc:
        raise _Bad("counted", str(exc)) from None
    try:
        cost = _cost_fen(cell("unit_cost_fen"), in_yuan=False)
        if cost is None:
            cost = _cost_fen(cell("unit_cost"), in_yuan=True)
    except ValueError as exc:
        raise _Bad("unit_cost", str(exc)) from None
    try:
        at = _when(cell("counted_at"), zone)
    except ValueError as exc:
        raise _Bad("counted_at", str(exc)) from None
    return CountEntry(code, counted, _text(cell("location")), _text(cell("counter")), cost, at)


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ParsedSheet:
    entries: tuple[tuple[int, CountEntry], ...]  # (spreadsheet row, entry)
    errors: tuple[RowError, ...]


def parse_sheet(sheet: Sheet, zone: ZoneInfo, on_row: Progress | None = None) -> ParsedSheet:
    """Every data row as an entry or a row error (missing code, quantity that is blank,
    negative, fractional or text; bad cost or time)."""
    cols = columns(sheet.header)
    entries, errors = [], []
    for row, cells in sheet.rows:
        try:
            entries.append((row, _entry(cells, cols, zone)))
        except _Bad as exc:
            errors.append(RowError(row, exc.field, str(exc)))
        if on_row:
            on_row(1)
    return ParsedSheet(tuple(entries), tuple(errors))


# --- the variance workbook --------------------------------------------------------------

VARIANCE_COLUMNS = (
    "商品编码 SKU",
    "库位 locations",
    "实盘 counted",
    "系统 system",
    "盘点时间 counted at",
    "差异 variance",
    "单位成本 unit cost (元)",
    "差异金额 value (元)",
)


#: What the API and the workbench serve the variance workbook as.
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def variance_file_name(count_id: int) -> str:
    return f"count-{count_id}-variance.xlsx"


def _yuan(fen: int | None) -> float | None:
    return None if fen is None else fen / 100


def variance_xlsx(report: VarianceReport, zone: ZoneInfo) -> bytes:
    """The variance report as a workbook: one row per counted SKU, then the totals."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "盘点差异 variance"
    ws.append(list(VARIANCE_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for v in report.skus:
        ws.append(
            [
                v.sku_code,
                ", ".join(loc for loc in v.locations if loc),
                v.counted,
                v.system_on_hand,
                v.counted_at.astimezone(zone).replace(tzinfo=None),
                v.variance,
                _yuan(v.unit_cost_fen),
                _yuan(v.value_fen),
            ]
        )
    ws.append([])
    for label, value in (
        ("SKUs counted 已盘SKU", len(report.skus)),
        ("SKUs off 差异SKU", report.skus_off),
        ("share off 差异占比", round(report.share_off, 4)),
        ("net quantity 净差异数量", report.net_quantity),
        ("gross quantity 差异绝对数量", report.gross_quantity),
        ("net value 净差异金额 (元)", _yuan(report.net_value_fen)),
        ("gross value 差异绝对金额 (元)", _yuan(report.gross_value_fen)),
        ("not counted 未盘", ", ".join(report.not_counted)),
        ("no cost 无成本", ", ".join(report.without_cost)),
    ):
        ws.append([label, value])
    for letter, width in zip("ABCDEFGH", (22, 18, 12, 12, 20, 12, 18, 18), strict=True):
        ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
