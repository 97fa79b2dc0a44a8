"""Stock (库存): a SKU's ledger with filters — docs/rules.md §3 (who, when and why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tierstock.domain.allocation import TierStock
from tierstock.domain.errors import InvalidValueError
from tierstock.domain.ledger import LedgerEntry
from tierstock.domain.sales_forms import Tier
from tierstock.services import stock
from tierstock.web.common import Page, PageDep
from tierstock.web.queries import KIND_NAMES, TIER_NAMES, all_cards, sku_choices

router = APIRouter()
READ_PAGE = 500
MAX_SCANNED = 50_000
SHOWN = 100


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


def _matching(page: Page, sku_id: int, flt: LedgerFilter) -> tuple[list[LedgerEntry], int]:
    """Entries that pass the filter, newest first, and how many entries were read."""
    found: list[LedgerEntry] = []
    offset = 0
    while offset < MAX_SCANNED:
        batch = stock.read_ledger(
            page.shop_id, sku_id, page.runtime.uow(readonly=True), offset=offset, limit=READ_PAGE
        )
        found.extend(e for e in batch if flt.keeps(e, page))
        offset += len(batch)
        if len(batch) < READ_PAGE:
            break
    found.reverse()
    return found, offset


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
    entries: list[LedgerEntry] = []
    scanned = 0
    tiers: dict[Tier, TierStock] = {}
    if chosen is not None:
        entries, scanned = _matching(page, chosen.sku.id, flt)
        held = stock.read_stock(page.shop_id, chosen.sku.id, page.runtime.uow(readonly=True))
        tiers = {t: held[t] for t in chosen.sku.sales_form.tiers if t in held}
    p = max(p, 1)
    shown = entries[(p - 1) * SHOWN : p * SHOWN]
    context: dict[str, Any] = {
        "choices": choices,
        "chosen": chosen,
        "flt": flt,
        "entries": shown,
        "matching": len(entries),
        "scanned": scanned,
        "truncated": scanned >= MAX_SCANNED,
        "page_no": p,
        "has_next": len(entries) > p * SHOWN,
        "stock": tiers,
        "tiers": TIER_NAMES,
        "kinds": KIND_NAMES,
    }
    name = (
        "partials/ledger.html"
        if page.is_htmx and page.request.headers.get("HX-Target") == "ledger"
        else "stock.html"
    )
    return page.render(name, **context)
