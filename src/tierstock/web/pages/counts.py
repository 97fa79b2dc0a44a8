"""Stock counts (库存盘点): open, import a count sheet, variance, approve (docs/rules.md §3–4).

The page runs the same services as ``tierstock count …`` and ``/counts``: a sheet is read
and checked by :mod:`tierstock.services.count_import` and saved all-or-nothing by
:func:`tierstock.services.counts.import_counts` (or only its good rows, when the merchant
asks, like the CLI's ``--accept-good-rows``). What an approval changed is read back from
the events it published in the same transaction, so it can be looked at again later.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, Response

from tierstock.domain.access import Permission
from tierstock.domain.counts import (
    APPROVER_ROLES,
    CountStatus,
    Event,
    RowError,
    StockCount,
    VarianceReport,
)
from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.services import count_approval, count_import, counts
from tierstock.web import forms
from tierstock.web.common import ChangeDep, Page, PageDep, error_status, url
from tierstock.web.i18n import N_
from tierstock.web.queries import all_cards, sku_choices

router = APIRouter()
FormField = Annotated[str, Form()]
SHEET_SUFFIXES = (".csv", ".xlsx", ".xlsm")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
COUNTS_SHOWN = 20
EVENTS_PAGE = 500
MAX_EVENTS_SCANNED = 50_000

#: The columns a row report names, in the merchant's words.
FIELD_NAMES = {
    "sku_code": N_("SKU code"),
    "counted": N_("counted quantity"),
    "location": N_("location"),
    "counter": N_("counter"),
    "counted_at": N_("counted at"),
    "unit_cost": N_("unit cost"),
    "unit_cost_fen": N_("unit cost"),
}


@dataclass(frozen=True)
class Imported:
    """What one uploaded sheet did: saved lines, refused rows, whether anything was kept."""

    file_name: str
    committed: bool
    saved: int
    refused: tuple[RowError, ...]
    keep_good_rows: bool


@dataclass(frozen=True)
class AffectedLine:
    order_id: int
    line_no: int
    quantity: int
    paid_at: datetime
    ship_by: datetime


@dataclass(frozen=True)
class Change:
    """One SKU an approval adjusted, as its ``stock.adjusted`` event tells it."""

    sku_code: str
    counted: int
    system_on_hand: int
    variance: int
    quantity_delta: int
    quantity: int
    sold: int
    shortfall: int
    affected: tuple[AffectedLine, ...] = ()

    @property
    def affected_orders(self) -> list[int]:
        return sorted({a.order_id for a in self.affected})


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number in the event, got {value!r}")
    return value


def _affected(payload: dict[str, object]) -> tuple[AffectedLine, ...]:
    lines = payload.get("affected_lines")
    if not isinstance(lines, list):
        return ()
    return tuple(
        AffectedLine(
            _int(ln["order_id"]),
            _int(ln["line_no"]),
            _int(ln["quantity"]),
            datetime.fromisoformat(str(ln["paid_at"])),
            datetime.fromisoformat(str(ln["ship_by"])),
        )
        for ln in lines
        if isinstance(ln, dict)
    )


def approval_changes(events: list[Event], count_id: int) -> list[Change]:
    """The changes of one count's approval, from the shop's published events."""
    short: dict[str, tuple[AffectedLine, ...]] = {}
    adjusted: list[dict[str, object]] = []
    for e in events:
        if e.payload.get("count_id") != count_id:
            continue
        if e.topic == "stock.adjusted":
            adjusted.append(e.payload)
        elif e.topic == "stock.short_of_promises":
            short[str(e.payload.get("sku_code"))] = _affected(e.payload)
    return [
        Change(
            str(p["sku_code"]),
            _int(p["counted"]),
            _int(p["system_on_hand"]),
            _int(p["variance"]),
            _int(p["quantity_delta"]),
            _int(p["quantity"]),
            _int(p["sold"]),
            _int(p["shortfall"]),
            short.get(str(p["sku_code"]), ()),
        )
        for p in adjusted
    ]


def _count_events(page: Page) -> tuple[list[Event], bool]:
    """The shop's count events, oldest first, and whether the scan stopped at its cap."""
    found: list[Event] = []
    after = scanned = 0
    while scanned < MAX_EVENTS_SCANNED:
        batch = counts.read_events(
            page.shop_id, page.runtime.uow(readonly=True), after=after, limit=EVENTS_PAGE
        )
        found.extend(e for e in batch if e.topic.startswith("stock."))
        scanned += len(batch)
        if len(batch) < EVENTS_PAGE:
            return found, False
        after = batch[-1].id
    return found, True


def _chosen(page: Page, listed: list[StockCount], count_id: int | None) -> StockCount | None:
    if count_id is not None:
        return counts.get_count(page.shop_id, count_id, page.runtime.uow(readonly=True))
    return next((c for c in listed if c.status is CountStatus.OPEN), listed[0] if listed else None)


def _context(page: Page, count_id: int | None, **extra: Any) -> dict[str, Any]:
    listed = counts.list_counts(page.shop_id, page.runtime.uow(readonly=True), limit=COUNTS_SHOWN)
    chosen = _chosen(page, listed, count_id)
    report: VarianceReport | None = None
    changes: list[Change] = []
    truncated = False
    if chosen is not None:
        report = counts.variance_report(page.shop_id, chosen.id, page.runtime.uow(readonly=True))
        if chosen.status is CountStatus.APPROVED:
            events, truncated = _count_events(page)
            changes = approval_changes(events, chosen.id)
    has_open = any(c.status is CountStatus.OPEN for c in listed)
    return {
        "counts": listed,
        "chosen": chosen,
        "report": report,
        "changes": changes,
        "flagged": [c for c in changes if c.shortfall],
        "events_truncated": truncated,
        "has_open": has_open,
        "skus": sku_choices(all_cards(page.runtime, page.shop_id)) if not has_open else [],
        "may_enter": page.merchant.may(Permission.STOCK),
        "may_approve": page.merchant.role in {r.value for r in APPROVER_ROLES},
        "role_name": page.role_name,
        "field_names": FIELD_NAMES,
        "imported": None,
        "error": None,
        "notice": None,
        **extra,
    }


def _body(page: Page, count_id: int | None, *, status: int = 200, **extra: Any) -> HTMLResponse:
    """The page below its title, as every change on it answers (htmx swaps it whole)."""
    response = page.render(
        "partials/counts_body.html", status=status, **_context(page, count_id, **extra)
    )
    if count_id is not None:
        response.headers["HX-Push-Url"] = url(page.request, f"/counts?count={count_id}")
    return response


@router.get("/counts", response_class=HTMLResponse)
def counts_page(page: PageDep, count: int | None = None) -> HTMLResponse:
    try:
        context = _context(page, count)
    except DomainError as exc:  # e.g. a count of another shop in the address
        context = _context(page, None, error=exc)
    return page.render("counts.html", **context)


@router.post("/counts", response_class=HTMLResponse)
def open_count(
    page: ChangeDep, note: FormField = "", skus: Annotated[list[str] | None, Form()] = None
) -> HTMLResponse:
    try:
        page.merchant.require(Permission.STOCK)
        chosen = tuple(forms.whole(s, "skus", minimum=1) for s in skus or ())
        opened = counts.open_count(
            counts.OpenCount(
                page.shop_id, sku_ids=chosen or None, note=note, actor=page.merchant.actor
            ),
            page.runtime.uow(),
        )
    except DomainError as exc:
        return _body(page, None, status=error_status(exc), error=exc)
    return _body(
        page,
        opened.id,
        status=201,
        notice=page.fmt.gettext(
            "Count #%(id)s opened. Count the shelves, then upload the count sheet.", id=opened.id
        ),
    )


def _stored(upload: UploadFile, folder: Path) -> Path:
    """The uploaded sheet as a file with its own suffix (what the reader goes by)."""
    suffix = Path(upload.filename or "").suffix.lower()
    if not upload.filename:
        raise InvalidValueError("choose a count sheet to upload", field="file")
    if suffix not in SHEET_SUFFIXES:
        raise InvalidValueError("import a .csv or .xlsx file", field="file")
    path = folder / f"sheet{suffix}"
    size = 0
    with path.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise InvalidValueError(
                    f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", field="file"
                )
            out.write(chunk)
    return path


@router.post("/counts/{count_id}/sheet", response_class=HTMLResponse)
def upload_sheet(
    page: ChangeDep,
    count_id: int,
    sheet: Annotated[UploadFile | None, File()] = None,
    keep_good_rows: FormField = "",
) -> HTMLResponse:
    keep = keep_good_rows in ("1", "on", "true")
    try:
        page.merchant.require(Permission.STOCK)
        if sheet is None:
            raise InvalidValueError("choose a count sheet to upload", field="file")
        with tempfile.TemporaryDirectory(prefix="tierstock-sheet-") as folder:
            parsed = count_import.parse_sheet(
                count_import.read_sheet(_stored(sheet, Path(folder))), page.merchant.zone
            )
        done = counts.import_counts(
            counts.RecordCounts(
                page.shop_id,
                count_id,
                tuple(e for _, e in parsed.entries),
                page.merchant.actor,
                keep,
                tuple(r for r, _ in parsed.entries),
                parsed.errors,
            ),
            page.runtime.uow(),
        )
    except DomainError as exc:
        return _body(page, count_id, status=error_status(exc), error=exc)
    imported = Imported(sheet.filename or "", done.committed, done.saved, done.refused, keep)
    return _body(page, count_id, status=200 if done.committed else 422, imported=imported)


@router.post("/counts/{count_id}/approve", response_class=HTMLResponse)
def approve_count(page: ChangeDep, count_id: int, reason: FormField = "") -> HTMLResponse:
    try:
        page.merchant.require(Permission.STOCK)
        done = count_approval.approve_count(
            count_approval.ApproveCount(
                page.shop_id, count_id, page.merchant.role, page.merchant.actor, reason
            ),
            page.runtime.uow(),
        )
    except DomainError as exc:
        return _body(page, count_id, status=error_status(exc), error=exc)
    return _body(
        page,
        count_id,
        notice=page.fmt.gettext(
            "Count #%(id)s approved: %(adjusted)s SKU(s) adjusted, %(short)s short of promises.",
            id=count_id,
            adjusted=len(done.adjustments),
            short=len(done.flagged),
        ),
    )


@router.get("/counts/{count_id}/variance.xlsx", response_class=Response)
def variance_export(page: PageDep, count_id: int) -> Response:
    report = counts.variance_report(page.shop_id, count_id, page.runtime.uow(readonly=True))
    data = count_import.variance_xlsx(report, page.merchant.zone)
    name = count_import.variance_file_name(count_id)
    return Response(
        data,
        media_type=count_import.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
