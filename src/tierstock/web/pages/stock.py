"""Stock (库存): a SKU's ledger with filters — docs/rules.md §3 (who, when and why) — what
each unit made sellable rests on, and the forms that make units sellable with evidence:
a receipt with its supplier and delivery note, or the owner's flagged override (§3.5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from tierstock.domain.access import Permission, Role
from tierstock.domain.allocation import TierStock
from tierstock.domain.errors import DomainError, InvalidValueError, NotFoundError
from tierstock.domain.evidence import EvidencedEntry
from tierstock.domain.ledger import LedgerEntry
from tierstock.domain.sales_forms import Tier
from tierstock.services import stock
from tierstock.web import forms
from tierstock.web.common import ChangeDep, Page, PageDep, error_status
from tierstock.web.i18n import N_
from tierstock.web.queries import KIND_NAMES, TIER_NAMES, SkuChoice, all_cards, sku_choices

router = APIRouter()
FormField = Annotated[str, Form()]
READ_PAGE = 500
MAX_SCANNED = 50_000
SHOWN = 100

EVIDENCE_NAMES = {
    "receipt": N_("receipt"),
    "count": N_("approved count"),
    "capacity": N_("supplier batch"),
    "override": N_("Stock raised without evidence"),
    "none": N_("no evidence"),
}


@dataclass(frozen=True)
class LedgerFilter:
    tier: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None

    def keeps(self, e: LedgerEntry, page: Page) -> bool:
        local_day = page.fmt.local(e.created_at).date()
        return (
            (not self.tier or e.tier.value == self.tier)
            and (not self.kind or e.kind.value == self.kind)
            and (self.since is None or local_day >= self.since)
            and (self.until is None or local_day <= self.until)
        )


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidValueError(f"{field} must be a date (YYYY-MM-DD)", field=field) from exc


def _matching(page: Page, sku_id: int, flt: LedgerFilter) -> tuple[list[EvidencedEntry], int]:
    """Entries that pass the filter, newest first, and how many entries were read."""
    found: list[EvidencedEntry] = []
    offset = 0
    while offset < MAX_SCANNED:
        batch = stock.read_ledger_evidence(
            page.shop_id, sku_id, page.runtime.uow(readonly=True), offset=offset, limit=READ_PAGE
        )
        found.extend(e for e in batch if flt.keeps(e.entry, page))
        offset += len(batch)
        if len(batch) < READ_PAGE:
            break
    found.reverse()
    return found, offset


def _ledger(
    page: Page, choices: list[SkuChoice], chosen: SkuChoice | None, flt: LedgerFilter, p: int
) -> dict[str, Any]:
    """What the ledger partial shows for the chosen SKU."""
    entries: list[EvidencedEntry] = []
    scanned = 0
    tiers: dict[Tier, TierStock] = {}
    if chosen is not None:
        entries, scanned = _matching(page, chosen.sku.id, flt)
        held = stock.read_stock(page.shop_id, chosen.sku.id, page.runtime.uow(readonly=True))
        tiers = {t: held[t] for t in chosen.sku.sales_form.tiers if t in held}
    p = max(p, 1)
    return {
        "choices": choices,
        "chosen": chosen,
        "flt": flt,
        "entries": entries[(p - 1) * SHOWN : p * SHOWN],
        "matching": len(entries),
        "scanned": scanned,
        "truncated": scanned >= MAX_SCANNED,
        "page_no": p,
        "has_next": len(entries) > p * SHOWN,
        "stock": tiers,
        "tiers": TIER_NAMES,
        "kinds": KIND_NAMES,
        "evidence_names": EVIDENCE_NAMES,
        "may_receive": page.merchant.may(Permission.STOCK),
        "may_override": page.merchant.role == Role.OWNER.value,
    }


@router.get("/stock", response_class=HTMLResponse)
def stock_page(
    page: PageDep,
    sku: int | None = None,
    tier: str = "",
    kind: str = "",
    since: str = "",
    until: str = "",
    p: int = 1,
) -> HTMLResponse:
    choices = sku_choices(all_cards(page.runtime, page.shop_id))
    flt = LedgerFilter(
        tier if tier in TIER_NAMES else "",
        kind if kind in KIND_NAMES else "",
        _day(since, "since"),
        _day(until, "until"),
    )
    chosen = next((c for c in choices if c.sku.id == sku), choices[0] if choices else None)
    context = _ledger(page, choices, chosen, flt, p)
    name = (
        "partials/ledger.html"
        if page.is_htmx and page.request.headers.get("HX-Target") == "ledger"
        else "stock.html"
    )
    return page.render(name, **context)


def _changed(page: Page, sku_id: int, action: Callable[[], object], notice: str) -> HTMLResponse:
    """Run one stock change; re-render the SKU's ledger with its result or its refusal."""
    choices = sku_choices(all_cards(page.runtime, page.shop_id))
    chosen = next((c for c in choices if c.sku.id == sku_id), None)
    said: dict[str, object]
    status, said = 200, {"notice": page.fmt.gettext(notice), "error": None}
    try:
        page.merchant.require(Permission.STOCK)
        if chosen is None:
            raise NotFoundError(f"no SKU {sku_id} in this shop", field="sku_id")
        action()
    except DomainError as exc:
        status, said = error_status(exc), {"notice": None, "error": exc}
    context = _ledger(page, choices, chosen, LedgerFilter(), 1)
    return page.render("partials/ledger.html", status=status, **context, **said)


@router.post("/stock/{sku_id}/receipts", response_class=HTMLResponse)
def receive(
    page: ChangeDep,
    sku_id: int,
    tier: FormField = "spot",
    quantity: FormField = "",
    supplier: FormField = "",
    delivery_note: FormField = "",
    reason: FormField = "",
) -> HTMLResponse:
    """Goods received, with their paperwork: the evidence spot stock rests on."""

    def action() -> object:
        cmd = stock.ReceiveStock(
            page.shop_id,
            sku_id,
            forms.tier(tier),
            forms.whole(quantity, "quantity", minimum=1),
            page.merchant.actor,
            reason.strip() or stock.RECEIPT_REASON,
            supplier=supplier,
            delivery_note=delivery_note,
            role=page.merchant.role,
        )
        return stock.receive_stock(cmd, page.runtime.uow())

    return _changed(page, sku_id, action, N_("Goods received: the units are on sale."))


@router.post("/stock/{sku_id}/override", response_class=HTMLResponse)
def override(
    page: ChangeDep, sku_id: int, available: FormField = "", reason: FormField = ""
) -> HTMLResponse:
    """The owner sets spot stock without evidence: allowed, and flagged."""

    def action() -> object:
        cmd = stock.SetStock(
            page.shop_id,
            sku_id,
            Tier.SPOT,
            forms.whole(available, "available"),
            page.merchant.actor,
            reason.strip() or stock.SET_STOCK_REASON,  # the default: no reason given
            role=page.merchant.role,
            override=True,
        )
        return stock.set_stock(cmd, page.runtime.uow())

    return _changed(
        page,
        sku_id,
        action,
        N_("Spot stock set. A raise without evidence is flagged on the overview."),
    )
