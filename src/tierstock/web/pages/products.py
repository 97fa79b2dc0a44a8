"""Products (商品): list, create, add SKUs, list/delist, form, set stock (docs/rules.md §1–2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from tierstock.domain.access import Permission
from tierstock.domain.catalogue import ServicePromise
from tierstock.domain.errors import DomainError
from tierstock.domain.sales_forms import SalesForm
from tierstock.services import card, catalogue, stock
from tierstock.web import forms
from tierstock.web.common import ChangeDep, Page, PageDep, error_status
from tierstock.web.i18n import N_
from tierstock.web.queries import (
    FORM_NAMES,
    PRODUCTS_PER_PAGE,
    TIER_NAMES,
    describe_form,
    product_cards,
)

router = APIRouter()
FormField = Annotated[str, Form()]

PROMISE_NAMES = {
    ServicePromise.SEVEN_DAY_RETURN: N_("7-day no-reason return (7天无理由)"),
    ServicePromise.FREIGHT_INSURANCE: N_("freight insurance (运费险)"),
    ServicePromise.FAKE_ONE_PAY_TEN: N_("fake one, pay ten (假一赔十)"),
    ServicePromise.FAST_REFUND: N_("fast refund (极速退款)"),
}


def _choices(page: Page) -> dict[str, Any]:
    with page.runtime.uow(readonly=True) as uow:
        policy = catalogue.shop_policy(uow, page.shop_id)
    return {
        "policy": policy,
        "forms": FORM_NAMES,
        "tiers": TIER_NAMES,
        "promise_names": PROMISE_NAMES,
        "describe_form": describe_form,
        "SalesForm": SalesForm,
    }


def _block(
    page: Page,
    product_id: int,
    *,
    status: int = 200,
    notice: str | None = None,
    error: DomainError | None = None,
    sku_id: int | None = None,
    created: bool = False,
) -> HTMLResponse:
    found = card.product_card(page.shop_id, product_id, page.runtime.uow(readonly=True))
    return page.render(
        "partials/product.html",
        status=status,
        card=found,
        notice=notice,
        error=error,
        error_sku=sku_id,
        created=created,
        **_choices(page),
    )


def _act(
    page: Page,
    product_id: int,
    action: Callable[[], object],
    notice: str,
    sku_id: int | None = None,
    permission: Permission = Permission.CATALOGUE,
) -> HTMLResponse:
    """Run one use case; re-render the product with its result or its refusal."""
    try:
        page.merchant.require(permission)
        action()
    except DomainError as exc:
        return _block(page, product_id, status=error_status(exc), error=exc, sku_id=sku_id)
    return _block(page, product_id, notice=page.fmt.gettext(notice), sku_id=sku_id)


@router.get("/products", response_class=HTMLResponse)
def products_page(page: PageDep, p: int = 1) -> HTMLResponse:
    p = max(p, 1)
    cards = product_cards(
        page.runtime, page.shop_id, offset=(p - 1) * PRODUCTS_PER_PAGE, limit=PRODUCTS_PER_PAGE + 1
    )
    return page.render(
        "products.html",
        cards=cards[:PRODUCTS_PER_PAGE],
        page_no=p,
        has_next=len(cards) > PRODUCTS_PER_PAGE,
        **_choices(page),
    )


@router.post("/products", response_class=HTMLResponse)
def create_product(
    page: ChangeDep, name: FormField = "", promises: Annotated[list[str] | None, Form()] = None
) -> HTMLResponse:
    page.merchant.require(Permission.CATALOGUE)
    known = {p.value for p in ServicePromise}
    chosen = tuple(ServicePromise(v) for v in promises or () if v in known)
    product = catalogue.create_product(
        catalogue.CreateProduct(page.shop_id, name, chosen), page.runtime.uow()
    )
    return _block(
        page,
        product.id,
        status=201,
        created=True,
        notice=page.fmt.gettext("Product created. Add a SKU, then list it."),
    )


def _set_listed(page: Page, product_id: int, listed: bool, notice: str) -> HTMLResponse:
    cmd = catalogue.SetListed(page.shop_id, product_id, listed)
    return _act(page, product_id, lambda: catalogue.set_listed(cmd, page.runtime.uow()), notice)


@router.post("/products/{product_id}/list", response_class=HTMLResponse)
def list_product(page: ChangeDep, product_id: int) -> HTMLResponse:
    return _set_listed(page, product_id, True, N_("Listed (上架): buyers can order it now."))


@router.post("/products/{product_id}/delist", response_class=HTMLResponse)
def delist_product(page: ChangeDep, product_id: int) -> HTMLResponse:
    return _set_listed(
        page, product_id, False, N_("Delisted (下架): you can change its sales forms now.")
    )


@router.post("/products/{product_id}/skus", response_class=HTMLResponse)
def add_sku(
    page: ChangeDep,
    product_id: int,
    code: FormField = "",
    price: FormField = "",
    specs: FormField = "",
    form: FormField = "tiered",
    spot_window_hours: FormField = "",
    presale_days: FormField = "",
    presale_ship_by: FormField = "",
    spot_stock: FormField = "0",
    presale_stock: FormField = "0",
) -> HTMLResponse:
    def action() -> object:
        cmd = catalogue.AddSku(
            page.shop_id,
            product_id,
            code,
            forms.yuan_to_fen(price),
            forms.sales_form(form, spot_window_hours, presale_days, presale_ship_by),
            forms.specs(specs),
            forms.whole(spot_stock or "0", "spot_stock"),
            forms.whole(presale_stock or "0", "presale_stock"),
            page.merchant.actor,
        )
        return catalogue.add_sku(cmd, page.runtime.uow())

    return _act(page, product_id, action, N_("SKU added."))


@router.post("/products/{product_id}/skus/{sku_id}/sales-form", response_class=HTMLResponse)
def change_sales_form(
    page: ChangeDep,
    product_id: int,
    sku_id: int,
    form: FormField = "",
    spot_window_hours: FormField = "",
    presale_days: FormField = "",
    presale_ship_by: FormField = "",
) -> HTMLResponse:
    def action() -> object:
        spec = forms.sales_form(form, spot_window_hours, presale_days, presale_ship_by)
        return catalogue.change_sales_form(
            catalogue.ChangeSalesForm(page.shop_id, sku_id, spec), page.runtime.uow()
        )

    return _act(page, product_id, action, N_("Sales form changed."), sku_id)


@router.post("/products/{product_id}/skus/{sku_id}/stock", response_class=HTMLResponse)
def set_stock(
    page: ChangeDep,
    product_id: int,
    sku_id: int,
    tier: FormField = "spot",
    available: FormField = "",
) -> HTMLResponse:
    def action() -> object:
        cmd = stock.SetStock(
            page.shop_id,
            sku_id,
            forms.tier(tier),
            forms.whole(available, "available"),
            page.merchant.actor,
            "set on the workbench",
        )
        return stock.set_stock(cmd, page.runtime.uow())

    return _act(page, product_id, action, N_("Stock set."), sku_id, Permission.STOCK)
