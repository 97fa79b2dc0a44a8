"""Suppliers and capacity (供应商与产能): suppliers, per-SKU batches, pace, risk — docs/rules.md §5.

The page runs the same services as ``tierstock capacity …`` and the capacity API:
:mod:`tierstock.services.capacity` keeps every rule (only confirmed capacity sells,
capacity never drops below what is promised, what a late or shrunk batch puts at risk).
The merchant may act for an offline supplier (confirm, revise, decline) like the CLI,
with the permission the API asks of it (``capacity``: the owner); proposing batches and
adding suppliers is catalogue work (owner, operator). A viewer reads, and is told why.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from tierstock.domain.access import Permission
from tierstock.domain.capacity import AtRiskLine, BatchAction, BatchStatus, RiskReason
from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.domain.sales_forms import Tier
from tierstock.services import capacity, capacity_plans
from tierstock.web import forms
from tierstock.web.common import ChangeDep, Page, PageDep, error_status, url
from tierstock.web.i18n import N_
from tierstock.web.queries import SkuChoice, all_cards, sku_choices

router = APIRouter()
FormField = Annotated[str, Form()]

STATUS_NAMES = {
    BatchStatus.PROPOSED.value: N_("proposed"),
    BatchStatus.CONFIRMED.value: N_("confirmed"),
    BatchStatus.DECLINED.value: N_("declined"),
    BatchStatus.RECEIVED.value: N_("received"),
}
ACTION_NAMES = {
    BatchAction.PROPOSED.value: N_("proposed"),
    BatchAction.CONFIRMED.value: N_("confirmed"),
    BatchAction.REVISED.value: N_("revised"),
    BatchAction.DECLINED.value: N_("declined"),
    BatchAction.RECEIVED.value: N_("received"),
}
REASON_NAMES = {
    RiskReason.UNCOVERED.value: N_("no confirmed capacity covers it"),
    RiskReason.LATE_BATCH.value: N_("its batch is late"),
    RiskReason.LATER_BATCH.value: N_("it now falls in a batch ready after its promise"),
}
#: What the merchant does to a batch on the supplier's behalf, by the address's word.
PACE_HOURS = (1, 3, 6, 12, 24, 72)
ACTIONS = {
    "confirm": BatchAction.CONFIRMED,
    "revise": BatchAction.REVISED,
    "decline": BatchAction.DECLINED,
}


def _presale_skus(page: Page) -> list[SkuChoice]:
    """SKUs that sell presale (presale or tiered): the ones capacity plans are for."""
    return [
        c
        for c in sku_choices(all_cards(page.runtime, page.shop_id))
        if Tier.PRESALE in c.sku.sales_form.tiers
    ]


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidValueError(f"{field} must be a date (YYYY-MM-DD)", field=field) from exc


def _sku(text: str) -> int | None:
    """The SKU the page was showing (a hidden field); anything else shows the first."""
    return int(text) if text.strip().isdigit() else None


def _context(
    page: Page, sku_id: int | None, hours: int = capacity.DEFAULT_PACE_HOURS, **extra: Any
) -> dict[str, Any]:
    ro = page.runtime.uow
    suppliers = capacity.list_suppliers(page.shop_id, ro(readonly=True))
    choices = _presale_skus(page)
    chosen = next((c for c in choices if c.sku.id == sku_id), choices[0] if choices else None)
    plan = risk = None
    at_risk: list[AtRiskLine] = []
    if chosen is not None:
        plan = capacity.sku_capacity(page.shop_id, chosen.sku.id, ro(readonly=True))
        risk = capacity.capacity_risk(
            page.shop_id,
            chosen.sku.id,
            ro(readonly=True),
            hours if hours in PACE_HOURS else capacity.DEFAULT_PACE_HOURS,
        )
        at_risk = list(risk.lines)
    return {
        "suppliers": suppliers,
        "supplier_names": {s.id: s.name for s in suppliers},
        "choices": choices,
        "chosen": chosen,
        "plan": plan,
        "risk": risk,
        "at_risk": at_risk,
        "pace_hours": PACE_HOURS,
        "may_plan": page.merchant.may(Permission.CATALOGUE),
        "may_act": page.merchant.may(Permission.CAPACITY),
        "role_name": page.role_name,
        "status_names": STATUS_NAMES,
        "action_names": ACTION_NAMES,
        "reason_names": REASON_NAMES,
        "error": None,
        "notice": None,
        **extra,
    }


def _body(page: Page, sku_id: int | None, *, status: int = 200, **extra: Any) -> HTMLResponse:
    """The page below its title, as every change on it answers (htmx swaps it whole)."""
    context = _context(page, sku_id, **extra)
    response = page.render("partials/capacity_body.html", status=status, **context)
    if context["chosen"] is not None:
        response.headers["HX-Push-Url"] = url(
            page.request, f"/capacity?sku={context['chosen'].sku.id}"
        )
    return response


@router.get("/capacity", response_class=HTMLResponse)
def capacity_page(
    page: PageDep, sku: int | None = None, hours: int = capacity.DEFAULT_PACE_HOURS
) -> HTMLResponse:
    context = _context(page, sku, hours)
    if page.is_htmx and page.request.headers.get("HX-Target") == "capacity-body":
        return page.render("partials/capacity_body.html", **context)
    return page.render("capacity.html", **context)


@router.post("/capacity/suppliers", response_class=HTMLResponse)
def add_supplier(page: ChangeDep, name: FormField = "", sku: FormField = "") -> HTMLResponse:
    sku_id = _sku(sku)
    try:
        page.merchant.require(Permission.CATALOGUE)
        made = capacity.create_supplier(page.shop_id, name, page.merchant.actor, page.runtime.uow())
    except DomainError as exc:
        return _body(page, sku_id, status=error_status(exc), error=exc)
    return _body(
        page,
        sku_id,
        status=201,
        notice=page.fmt.gettext("Supplier %(name)s added.", name=made.name),
    )


@router.post("/capacity/skus/{sku_id}/batches", response_class=HTMLResponse)
def propose_batch(
    page: ChangeDep,
    sku_id: int,
    supplier_id: FormField = "",
    quantity: FormField = "",
    ready_on: FormField = "",
    note: FormField = "",
) -> HTMLResponse:
    try:
        page.merchant.require(Permission.CATALOGUE)
        made = capacity_plans.propose(
            capacity_plans.ProposeCapacity(
                page.shop_id,
                sku_id,
                forms.whole(supplier_id, "supplier_id", minimum=1),
                ((forms.whole(quantity, "quantity", minimum=1), _day(ready_on, "ready_on")),),
                page.merchant.actor,
                note.strip()[:300],
            ),
            page.runtime.uow(),
        )
    except DomainError as exc:
        return _body(page, sku_id, status=error_status(exc), error=exc)
    return _body(
        page,
        sku_id,
        status=201,
        notice=page.fmt.gettext(
            "Batch #%(id)s proposed. It sells once the supplier confirms it.", id=made[0].id
        ),
    )


@router.post("/capacity/batches/{batch_id}/{action}", response_class=HTMLResponse)
def act_on_batch(
    page: ChangeDep,
    batch_id: int,
    action: str,
    sku: FormField = "",
    quantity: FormField = "",
    ready_on: FormField = "",
    note: FormField = "",
) -> HTMLResponse:
    """Confirm, revise or decline for an offline supplier (as ``tierstock capacity``)."""
    sku_id = _sku(sku)
    try:
        page.merchant.require(Permission.CAPACITY)
        chosen = ACTIONS.get(action)
        if chosen is None:
            raise InvalidValueError(f"unknown action {action!r}", field="action")
        revised = chosen is BatchAction.REVISED
        done = capacity_plans.act(
            capacity_plans.BatchCommand(
                page.shop_id,
                batch_id,
                chosen,
                None,
                forms.whole(quantity, "quantity", minimum=1) if revised else None,
                _day(ready_on, "ready_on") if revised else None,
                note.strip()[:500],
                page.merchant.actor,
            ),
            page.runtime.uow(),
        )
    except DomainError as exc:
        return _body(page, sku_id, status=error_status(exc), error=exc)
    exposure = sum(x.exposure_fen for x in done.at_risk)
    notice = page.fmt.gettext(
        "Batch #%(id)s %(action)s for the supplier.",
        id=batch_id,
        action=page.fmt.gettext(ACTION_NAMES[chosen.value]),
    )
    if done.at_risk:
        notice += " " + page.fmt.gettext(
            "%(n)s promise(s) now at risk, %(money)s compensation exposure.",
            n=page.fmt.number(len(done.at_risk)),
            money=page.fmt.money(exposure),
        )
    return _body(page, done.batch.sku_id, notice=notice)
