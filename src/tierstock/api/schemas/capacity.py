"""Supplier capacity: suppliers, planned batches, the supplier's answers and the risk they carry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import IsoDate, Name, Reason, RowId
from tierstock.domain.capacity import MAX_BATCH_QUANTITY

Note = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")]
BatchQuantity = Annotated[int, Field(ge=1, le=MAX_BATCH_QUANTITY)]


class SupplierCreate(Strict):
    name: Name


class SupplierPublic(Public):
    id: int
    name: str
    created_at: datetime


class BatchCreate(Strict):
    quantity: BatchQuantity
    ready_on: IsoDate = Field(description="the day the supplier delivers (shop's local date)")


class CapacityCreate(Strict):
    supplier_id: RowId
    batches: list[BatchCreate] = Field(min_length=1, max_length=100)
    note: Reason = ""


class BatchNoteUpdate(Strict):
    note: Note = ""


class BatchUpdate(Strict):
    quantity: BatchQuantity
    ready_on: IsoDate
    note: Note = ""


class BatchRevisionPublic(Public):
    action: str
    quantity: int
    ready_on: date
    actor: str
    note: str
    at: datetime


class PacePublic(Public):
    hours: int
    units_sold: int
    per_hour: float
    remaining: int
    runs_out_at: datetime | None


class BatchPublic(Public):
    id: int
    sku_id: int
    supplier_id: int
    quantity: int
    ready_on: date
    status: str
    in_presale_tier: int = Field(description="units this batch adds to the presale tier")
    promised: int | None = Field(None, description="units of it promised to paid lines")
    late: bool = False
    created_at: datetime
    history: list[BatchRevisionPublic] = Field([])  # not `= []`: RUF012
    pace: PacePublic | None = Field(None, description="the SKU's presale pace (supplier view)")


class AtRiskPublic(Public):
    order_id: int
    line_no: int
    quantity: int
    ship_by: datetime
    batch_id: int | None
    reason: str
    expected_ship: datetime | None
    exposure_fen: int
    exposure_yuan: str


class BatchChangedPublic(Public):
    batch: BatchPublic
    moved_to_spot: int
    at_risk: list[AtRiskPublic]
    exposure_fen: int
    exposure_yuan: str


class SkuPresalePublic(Public):
    quantity: int
    sold: int
    available: int
    unbatched: int = Field(description="the merchant's own presale units, sold first")


class SkuCapacityPublic(Public):
    sku_id: int
    presale: SkuPresalePublic
    batches: list[BatchPublic]


class CapacityRiskPublic(Public):
    sku_id: int
    late_batches: list[int]
    revised_down: list[int]
    lines: list[AtRiskPublic]
    exposure_fen: int
    exposure_yuan: str
    pace: PacePublic
