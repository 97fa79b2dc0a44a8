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
    Trimmed,
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


Supplier = Annotated[str, Trimmed(0, 200)]
DeliveryNote = Annotated[str, Trimmed(0, 100)]
OVERRIDE_HELP = (
    "the owner alone: raise spot stock without evidence, with a reason; flagged as "
    "stock raised without evidence (库存无依据上调) in the ledger, the audit trail and "
    "the overview (docs/rules.md §3.5)"
)


class StockReceiptCreate(Strict):
    """Goods received. A spot receipt is evidence when it names its supplier and its
    delivery note (or batch number); without them it is refused (409
    ``stock_needs_evidence``) unless the owner overrides."""

    tier: TierValue = Tier.SPOT
    quantity: Annotated[int, Field(gt=0, le=10_000_000)]
    supplier: Supplier = Field("", description="who delivered the goods")
    delivery_note: DeliveryNote = Field(
        "", description="the delivery note (送货单) or batch number; received once per SKU"
    )
    reason: Reason = "goods received"
    override: bool = Field(False, description=OVERRIDE_HELP)


class StockUpdate(Strict):
    """Set how many units are available. Lowering needs nothing more; raising spot
    is refused (409 ``stock_needs_evidence``) unless the owner overrides: record a
    receipt or approve a count instead."""

    available: Quantity
    reason: Reason = "stock set by merchant"
    override: bool = Field(False, description=OVERRIDE_HELP)


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
    evidence: str | None = Field(
        None,
        description="what units made sellable rest on: receipt, count, capacity, "
        "override (flagged) or none; null when the entry made none sellable",
    )
    supplier: str | None = None
    delivery_note: str | None = None
    flagged: bool = Field(False, description="stock raised without evidence (库存无依据上调)")
    during_live: bool = Field(False, description="a live session's lock held the SKU")


class UnevidencedRaisePublic(Public):
    ledger_id: int
    kind: str = Field(description="receipt or set_stock")
    units: int
    actor: str
    reason: str
    at: datetime
    basis: str = Field(description="override (the owner's, flagged) or none (nothing recorded)")
    opening: bool = Field(description="the SKU's opening stock, given when it was created")
    flagged: bool
    during_live: bool
    text_en: str
    text_zh: str


class UnevidencedSkuPublic(Public):
    sku_id: int
    sku_code: str
    product_name: str
    units: int = Field(description="spot units made sellable without evidence")
    flagged_units: int = Field(description="of which by the owner's override")
    live_units: int = Field(description="of which during a live session")
    raises: list[UnevidencedRaisePublic]


class UnevidencedPublic(Public):
    shop_id: int
    units: int
    flagged_units: int
    skus: list[UnevidencedSkuPublic]
