"""Reads the pages share, built from the same services the API calls."""

from __future__ import annotations

from dataclasses import dataclass

from tierstock.domain.catalogue import Sku
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
from tierstock.services import card, catalogue
from tierstock.services.card import ProductCard, SkuCard
from tierstock.services.runtime import Runtime
from tierstock.web.i18n import N_, Formatter

PAGE = 200
PRODUCTS_PER_PAGE = 20

FORM_NAMES = {
    SalesForm.SPOT: N_("Spot (现货)"),
    SalesForm.PRESALE: N_("Presale (预售)"),
    SalesForm.TIERED: N_("Tiered spot + presale (阶梯发货)"),
}
TIER_NAMES = {"spot": N_("spot"), "presale": N_("presale")}
KIND_NAMES = {
    "receipt": N_("receipt"),
    "set_stock": N_("stock set"),
    "sale": N_("sale"),
    "cancel": N_("cancel"),
    "adjustment": N_("count adjustment"),
}


def describe_form(spec: SalesFormSpec, fmt: Formatter) -> str:
    """'Tiered: spot within 48 h, presale within 5 days' in the page's language."""
    parts = [fmt.gettext(FORM_NAMES[spec.form])]
    if spec.spot_window_hours is not None:
        parts.append(fmt.gettext("spot within %(hours)s h", hours=spec.spot_window_hours))
    if spec.presale_days is not None:
        parts.append(fmt.gettext("presale within %(days)s days", days=spec.presale_days))
    if spec.presale_ship_by is not None:
        parts.append(fmt.gettext("ships by %(date)s", date=fmt.date(spec.presale_ship_by)))
    return " · ".join(parts)


def product_cards(
    runtime: Runtime, shop_id: int, *, offset: int = 0, limit: int = PRODUCTS_PER_PAGE
) -> list[ProductCard]:
    """Fresh cards, not the viewers' cache (services/card_cache.py): the workbench is
    read by the shop's own staff, who act on what they see and must see their change."""
    found = catalogue.list_products(shop_id, runtime.uow(readonly=True), offset=offset, limit=limit)
    return [card.product_card(shop_id, p.id, runtime.uow(readonly=True)) for p in found]


def all_cards(runtime: Runtime, shop_id: int) -> list[ProductCard]:
    """Every product of the shop with its SKUs and tier stock (paged reads)."""
    cards: list[ProductCard] = []
    while True:
        page = product_cards(runtime, shop_id, offset=len(cards), limit=PAGE)
        cards.extend(page)
        if len(page) < PAGE:
            return cards


@dataclass(frozen=True)
class SkuChoice:
    product_name: str
    listed: bool
    sku: Sku
    card: SkuCard

    @property
    def label(self) -> str:
        specs = " ".join(self.sku.specs.values())
        return f"{self.product_name} · {self.sku.code}" + (f" ({specs})" if specs else "")


def sku_choices(cards: list[ProductCard]) -> list[SkuChoice]:
    return [SkuChoice(c.product.name, c.product.listed, s.sku, s) for c in cards for s in c.skus]
