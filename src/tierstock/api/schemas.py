"""The API contract, by direction: ``*Create`` in, ``*Public`` out. Never ORM rows.

Times go out in the shop's display zone (Asia/Shanghai for the shipped packs) as
ISO 8601 with offset; money goes out as integer fen plus a yuan string for people.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tierstock.domain.catalogue import ServicePromise
from tierstock.domain.sales_forms import SalesForm, Tier

# Text fields refuse NUL: PostgreSQL cannot store it, and no merchant means it.
NO_NUL = r"^[^\x00]*$"
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=NO_NUL)
]
SpecText = Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)]
SpecName = Annotated[str, StringConstraints(max_length=50, pattern=NO_NUL)]
Reason = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]
Label = Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)]
Quantity = Annotated[int, Field(ge=0, le=10_000_000)]
MAX_ID = 2**62  # ids are BIGINT; anything larger cannot name a row
RowId = Annotated[int, Field(gt=0, le=MAX_ID)]
PriceFen = Annotated[int, Field(gt=0, le=100_000_000_00)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    error: str = Field(description="stable machine-readable code")
    field: str | None = Field(description="the input the rule concerns")
    message: str = Field(description="what was wrong, for a person")


class ShopCreate(Strict):
    name: Name
    policy: str = Field("kuaishou", max_length=40, pattern=NO_NUL, description="policy pack name")


class ShopPublic(BaseModel):
    id: int
    name: str
    policy: str
    created_at: datetime


class ShopCreated(ShopPublic):
    api_key: str = Field(description="owner key: shown once, stored only as a digest")


class SpotForm(Strict):
    form: Literal["spot"]
    spot_window_hours: int


class PresaleForm(Strict):
    form: Literal["presale"]
    presale_days: int | None = None
    presale_ship_by: date | None = None


class TieredForm(Strict):
    form: Literal["tiered"]
    spot_window_hours: int
    presale_days: int


SalesFormIn = Annotated[SpotForm | PresaleForm | TieredForm, Field(discriminator="form")]


class SalesFormPublic(BaseModel):
    form: SalesForm
    spot_window_hours: int | None
    presale_days: int | None
    presale_ship_by: date | None


class ProductCreate(Strict):
    name: Name
    service_promises: list[ServicePromise] = Field(default_factory=list, max_length=10)


class ProductPublic(BaseModel):
    id: int
    name: str
    listed: bool
    service_promises: list[ServicePromise]
    created_at: datetime


class ProductsPublic(BaseModel):
    data: list[ProductPublic]
    count: int


class SkuCreate(Strict):
    code: Code
    price_fen: PriceFen
    sales_form: SalesFormIn
    specs: dict[SpecName, SpecText] = Field(
        default_factory=dict, max_length=10, description='e.g. {"colour": "红", "size": "M"}'
    )
    spot_stock: Quantity = 0
    presale_stock: Quantity = 0


class SkuPublic(BaseModel):
    id: int
    product_id: int
    code: str
    specs: dict[str, str]
    price_fen: int
    price_yuan: str
    sales_form: SalesFormPublic


class TierStockPublic(BaseModel):
    tier: Tier
    quantity: int = Field(description="units ever made sellable in this tier")
    sold: int = Field(description="units promised to paid lines")
    available: int


class StockPublic(BaseModel):
    sku_id: int
    tiers: list[TierStockPublic]


class StockReceipt(Strict):
    tier: Tier = Tier.SPOT
    quantity: Annotated[int, Field(gt=0, le=10_000_000)]
    reason: Reason = "goods received"


class StockSet(Strict):
    available: Quantity
    reason: Reason = "stock set by merchant"


class LedgerEntryPublic(BaseModel):
    tier: Tier
    kind: str
    quantity_delta: int
    sold_delta: int
    order_id: int | None
    line_no: int | None
    actor: str
    reason: str
    created_at: datetime


class LineCreate(Strict):
    sku_id: RowId
    quantity: int = Field(gt=0, le=100_000)


class OrderCreate(Strict):
    lines: list[LineCreate] = Field(min_length=1, max_length=200)
    buyer: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] | None = None


class OrderLinePublic(BaseModel):
    line_no: int
    sku_id: int
    quantity: int
    tier: Tier
    unit_price_fen: int
    paid_fen: int
    ship_by: datetime
    status: str


class OrderPublic(BaseModel):
    id: int
    buyer: str | None
    paid_at: datetime
    total_fen: int
    lines: list[OrderLinePublic]


class PromisePublic(BaseModel):
    tier: Tier | None
    ship_by: datetime | None
    text_en: str
    text_zh: str


class SkuCardPublic(SkuPublic):
    tiers: list[TierStockPublic]
    available: int
    next_unit_promise: PromisePublic


class ProductCardPublic(BaseModel):
    product: ProductPublic
    skus: list[SkuCardPublic]
    as_of: datetime


class KeyCreate(Strict):
    role: Literal["owner", "operator", "warehouse", "supplier", "viewer"]
    label: Label = ""
    supplier_id: RowId | None = Field(None, description="role supplier: its supplier")


class KeyPublic(BaseModel):
    id: int
    role: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    api_key: str = Field(description="shown once; only its digest is stored")


class AuditEntryPublic(BaseModel):
    actor: str
    action: str
    object_type: str
    object_id: int
    detail: dict[str, object]
    reason: str
    created_at: datetime
