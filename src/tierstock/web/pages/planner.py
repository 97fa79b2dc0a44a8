"""Live planner (直播规划): simulate a live session before it starts — docs/rules.md §8.

The page only fills :class:`tierstock.services.planner.PlanLive` from its form and calls
:func:`tierstock.services.planner.plan_live`, as ``POST /plans`` and ``tierstock plan``
do: the SKU's sales form, price, stock and capacity come from the database, the rules
from the planner. A plan changes nothing, so reading permission is enough and the form
is a GET (a plan can be linked and reloaded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tierstock.domain.burst import CURVE_SHAPES
from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.services import planner
from tierstock.services.planner import MAX_BUYERS, MAX_MINUTES, LivePlan
from tierstock.web import forms
from tierstock.web.common import Page, PageDep, error_status
from tierstock.web.i18n import N_
from tierstock.web.queries import TIER_NAMES, all_cards, sku_choices

router = APIRouter()
MAX_SLIP_DAYS = 365
MAX_SEED = 2**63 - 1

SHAPE_NAMES = {
    "flat": N_("flat (even all session)"),
    "spike": N_("spike (rush at the start)"),
    "ramp": N_("ramp (building up)"),
}
#: Why the live system would refuse a buyer, by the planner's reason codes.
REFUSAL_NAMES = {
    "sold_out": N_("sold out"),
    "capacity_exhausted": N_("no confirmed capacity left"),
    "capacity_beyond_window": N_("batch ready after the presale window"),
    "presale_ended": N_("presale ended"),
}


@dataclass(frozen=True)
class PlanForm:
    """The form as typed (shown back as is) — turned into a command only when run."""

    sku: str = ""
    buyers: str = "1000"
    minutes: str = "120"
    curve: str = "spike"
    slip_days: str = "0"
    seed: str = "0"

    def command(self, shop_id: int) -> planner.PlanLive:
        return planner.PlanLive(
            shop_id=shop_id,
            sku_id=_bounded(self.sku, "sku_id", 1, 2**63 - 1),
            buyers=_bounded(self.buyers, "buyers", 0, MAX_BUYERS),
            duration_minutes=_bounded(self.minutes, "duration_minutes", 1, MAX_MINUTES),
            curve_shape=self.curve or "flat",
            slip_days=_bounded(self.slip_days or "0", "slip_days", 0, MAX_SLIP_DAYS),
            seed=_bounded(self.seed or "0", "seed", 0, MAX_SEED),
        )


def _bounded(text: str, field: str, low: int, high: int) -> int:
    value = forms.whole(text, field, minimum=low)
    if value > high:
        raise InvalidValueError(f"{field} must be at most {high:,}", field=field)
    return value


def _chart_data(r: LivePlan, page: Page) -> str:
    """The per-minute series for the charts, with clock labels in the shop's zone."""
    start = r.input.starts_at
    pts = r.plan.series
    return json.dumps(
        {
            "labels": [page.fmt.time(start + timedelta(minutes=x.minute)) for x in pts],
            "minute": [x.minute for x in pts],
            "spot_left": [x.spot_left for x in pts],
            "presale_left": [x.presale_left for x in pts],
            "orders": [x.lines for x in pts],
            "refused": [x.refused for x in pts],
            "sold_out": r.plan.spot_sold_out_minute,
        },
        separators=(",", ":"),
    )


def _context(page: Page, form: PlanForm, run: bool) -> tuple[dict[str, Any], int]:
    choices = sku_choices(all_cards(page.runtime, page.shop_id))
    if not form.sku and choices:
        form = PlanForm(
            str(choices[0].sku.id), form.buyers, form.minutes, form.curve, form.slip_days, form.seed
        )
    result: LivePlan | None = None
    error: DomainError | None = None
    status = 200
    if run:
        try:
            result = planner.plan_live(form.command(page.shop_id), page.runtime.uow(readonly=True))
        except DomainError as exc:
            error, status = exc, error_status(exc)
    context: dict[str, Any] = {
        "choices": choices,
        "form": form,
        "tiers": TIER_NAMES,
        "shapes": {s: SHAPE_NAMES.get(s, s) for s in CURVE_SHAPES},
        "refusal_names": REFUSAL_NAMES,
        "result": result,
        "error": error,
        "notice": None,
        "chart_data": _chart_data(result, page) if result else "",
        "at": (lambda minute: page.fmt.time(result.input.starts_at + timedelta(minutes=minute)))
        if result
        else None,
    }
    return context, status


@router.get("/planner", response_class=HTMLResponse)
def planner_page(
    page: PageDep,
    sku: str = "",
    buyers: str = "1000",
    minutes: str = "120",
    curve: str = "spike",
    slip_days: str = "0",
    seed: str = "0",
    run: str = "",
) -> HTMLResponse:
    form = PlanForm(sku, buyers, minutes, curve, slip_days, seed)
    context, status = _context(page, form, bool(run))
    if page.is_htmx and page.request.headers.get("HX-Target") == "plan-result":
        return page.render("partials/plan_result.html", status=status, **context)
    return page.render("planner.html", status=status, **context)
