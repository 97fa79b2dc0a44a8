"""Stock counts: open a count, counted figures in, variance report and approval out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, WithJsonSchema

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import MAX_ID, IsoDateTime, Trimmed
from tierstock.domain.counts import DEFAULT_WAREHOUSE, MAX_COUNTED
from tierstock.services.counts import WAREHOUSES

Code = Annotated[str, Trimmed(1, 64)]  # as typed on a count sheet


class CountCreate(Strict):
    warehouse: Annotated[str, WithJsonSchema({"type": "string", "enum": list(WAREHOUSES)})] = Field(
        DEFAULT_WAREHOUSE, description="one warehouse per shop for now"
    )
    sku_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="the SKUs to count; omit to count every SKU",
    )
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class CountPublic(Public):
    id: int
    warehouse: str
    status: str
    sku_ids: list[int] | None
    note: str
    opened_at: datetime
    opened_by: str
    approved_at: datetime | None
    approved_by: str | None


class CountEntryCreate(Strict):
    sku_code: Code
    counted: int = Field(ge=0, le=MAX_COUNTED)
    location: Annotated[str, Trimmed(0, 60)] = ""
    counter: Annotated[str, Trimmed(0, 100)] = ""
    unit_cost_fen: int | None = Field(None, ge=0, le=10**12)
    counted_at: IsoDateTime | None = Field(
        None, description="when counted (with offset); default: now"
    )


class CountEntriesCreate(Strict):
    entries: list[CountEntryCreate] = Field(min_length=1, max_length=10_000)
    accept_good_rows: bool = Field(
        False,
        description="save good entries even if others "
        "are refused (default: refuse the whole batch, 422)",
    )


class RowErrorPublic(Public):
    row: int = Field(description="1-based position of the entry")
    field: str
    message: str


class CountEntriesPublic(Public):
    count_id: int
    saved: int
    refused: list[RowErrorPublic]


class SkuVariancePublic(Public):
    sku_id: int
    sku_code: str
    locations: list[str]
    counted: int
    system_on_hand: int
    counted_at: datetime
    variance: int
    unit_cost_fen: int | None
    value_fen: int | None


class VariancePublic(Public):
    count: CountPublic
    skus: list[SkuVariancePublic]
    skus_counted: int
    skus_off: int
    share_off: float
    net_quantity: int
    gross_quantity: int
    net_value_fen: int
    net_value_yuan: str
    gross_value_fen: int
    not_counted: list[str]
    without_cost: list[str]


class AffectedLinePublic(Public):
    order_id: int
    line_no: int
    quantity: int
    paid_at: datetime
    ship_by: datetime


class AdjustmentPublic(Public):
    sku_id: int
    sku_code: str
    counted: int
    system_on_hand: int
    variance: int
    quantity_delta: int
    quantity: int
    sold: int
    shortfall: int = Field(description="promised units the shelf no longer holds")
    affected: list[AffectedLinePublic]


class ApprovalCreate(Strict):
    reason: Annotated[str, Trimmed(0, 300)] = ""


class ApprovalPublic(Public):
    count: CountPublic
    adjustments: list[AdjustmentPublic]
    flagged_skus: list[str]
    affected_orders: list[int]
    events: int
