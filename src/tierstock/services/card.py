"""The product card (商品卡): the one view the host, the product page and customer
service share (docs/rules.md §1). It is read by every viewer of a live stream, so it is one
read-only transaction with two queries. Viewers read it through the short-lived cache
of :mod:`tierstock.services.card_cache`; this function always reads the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tierstock.domain.allocation import TierStock, choose_tier
from tierstock.domain.catalogue import Product, Sku
from tierstock.domain.errors import DomainError
from tierstock.domain.policy import PolicyPack
from tierstock.domain.promises import BuyerPromise, buyer_promise
from tierstock.domain.sales_forms import Tier
from tierstock.services.catalogue import require_product, shop_policy
from tierstock.services.placing.order import deadline_of
from tierstock.store.uow import UnitOfWork


@dataclass(frozen=True)
class SkuCard:
    sku: Sku
    tiers: tuple[TierStock, ...]  # the tiers the SKU's form sells from, in order
    next_unit: BuyerPromise

    @property
    def available(self) -> int:
        return sum(t.available for t in self.tiers)


@dataclass(frozen=True)
class ProductCard:
    product: Product
    skus: tuple[SkuCard, ...]
    as_of: datetime


def product_card(shop_id: int, product_id: int, uow: UnitOfWork) -> ProductCard:
    with uow:
        policy = shop_policy(uow, shop_id)
        product = require_product(uow, shop_id, product_id)
        skus = uow.catalogue.skus_of_product(product.id)
        stock = uow.stock.tiers(s.id for s in skus)
        now = uow.now()
        zone = ZoneInfo(policy.display_timezone)
        cards = [_sku_card(uow, sku, stock.get(sku.id, {}), now, policy, zone) for sku in skus]
    return ProductCard(product, tuple(cards), now)


def _sku_card(
    uow: UnitOfWork,
    sku: Sku,
    held: dict[Tier, TierStock],
    now: datetime,
    policy: PolicyPack,
    zone: ZoneInfo,
) -> SkuCard:
    """The next unit's promise: its tier and the deadline a buyer paying now would get —
    the same rule the order paths apply (:func:`~tierstock.services.orders.deadline_of`)."""
    tiers = tuple(held[t] for t in sku.sales_form.tiers if t in held)
    next_tier = choose_tier(1, sku.sales_form.tiers, {t.tier: t.available for t in tiers})
    deadline = None
    if next_tier is not None:
        try:
            deadline = deadline_of(
                uow, sku, next_tier, 1, held[next_tier].sold + 1, now, policy, "quantity"
            )
        except DomainError:  # no batch can ship in the window, or the presale has ended
            next_tier = None
    return SkuCard(sku, tiers, buyer_promise(sku.sales_form, next_tier, now, zone, deadline))
