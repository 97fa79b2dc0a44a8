"""SKUs: sales forms, the SKU, its stock per tier, receipts, set stock and the ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import (
    Code,
    IsoDate,
    PriceFen,
    Quantity,
    Reason,
    SpecName,
    SpecText,
    TierValue,
)
from tierstock.domain.sales_forms import SalesForm, Tier


class SpotFormCreate(Strict):
    form: Literal["spot"]
    spot_window_hours: int


class PresaleFormCreate(Strict):
    form: Literal["presale"]
    presale_days: int | None = None
    presale_ship_by: IsoDate | None = None


class TieredFormCreate(Strict):
    form: Literal["tiered"]
    spot_window_hours: int
    presale_days: int


SalesFormCreate = Annotated[
    SpotFormCreate | PresaleFormCreate | TieredFormCreate, Field(discriminator="form")
]


class SalesFormPublic(Public):
    form: SalesForm
    spot_window_hours: int | None
    presale_days: int | None
    presale_ship_by: date | None


class SkuCreate(Strict):
    code: Code
    price_fen: PriceFen
    sales_form: SalesFormCreate
    specs: dict[SpecName, SpecText] = Field(
        default_factory=dict, max_length=10, description='e.g. {"colour": "红", "size": "M"}'
    )
    spot_stock: Quantity = 0
    presale_stock: Quantity = 0


class SkuPublic(Public):
    id: int
    product_id: int
    code: str
    specs: dict[str, str]
    price_fen: int
    price_yuan: str
    sales_form: SalesFormPublic


class TierStockPublic(Public):
    tier: Tier
    quantity: int = Field(description="units ever made sellable in this tier")
    sold: int = Field(description="units promised to paid lines")
    available: int


class StockPublic(Public):
    sku_id: int
    tiers: list[TierStockPublic]


class StockReceiptCreate(Strict):
    tier: TierValue = Tier.SPOT
    quantity: Annotated[int, Field(gt=0, le=10_000_000)]
    reason: Reason = "goods received"


class StockUpdate(Strict):
    available: Quantity
    reason: Reason = "stock set by merchant"


class LedgerEntryPublic(Public):
    tier: Tier
    kind: str
    quantity_delta: int
    sold_delta: int
    order_id: int | None
    line_no: int | None
    actor: str
    reason: str
    created_at: datetime
