"""Products: create, the product and its pages, and the product card with each SKU's promise."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import Name, ServicePromiseValue
from tierstock.api.schemas.skus import SkuPublic, TierStockPublic
from tierstock.domain.catalogue import ServicePromise
from tierstock.domain.sales_forms import Tier


class ProductCreate(Strict):
    name: Name
    service_promises: list[ServicePromiseValue] = Field(default_factory=list, max_length=10)


class ProductPublic(Public):
    id: int
    name: str
    listed: bool
    service_promises: list[ServicePromise]
    created_at: datetime


class ProductsPublic(Public):
    data: list[ProductPublic]
    count: int


class NextUnitPromisePublic(Public):
    tier: Tier | None
    ship_by: datetime | None
    text_en: str
    text_zh: str


class SkuCardPublic(SkuPublic):
    tiers: list[TierStockPublic]
    available: int
    next_unit_promise: NextUnitPromisePublic


class ProductCardPublic(Public):
    product: ProductPublic
    skus: list[SkuCardPublic]
    as_of: datetime
