"""Orders: the order a buyer pays for in, the order with its tiered lines out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import NO_NUL, RowId
from tierstock.api.schemas.promises import CompensationPublic
from tierstock.api.schemas.shipments import ShipmentPublic
from tierstock.domain.sales_forms import Tier


class OrderLineCreate(Strict):
    sku_id: RowId
    quantity: int = Field(gt=0, le=100_000)


class OrderCreate(Strict):
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=200)
    buyer: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] | None = None


class OrderLinePublic(Public):
    line_no: int
    sku_id: int
    quantity: int
    tier: Tier
    unit_price_fen: int
    paid_fen: int
    ship_by: datetime
    status: str = Field(description="paid, shipped or cancelled")
    shipment: ShipmentPublic | None = Field(
        None, description="carrier, tracking number, shipped and pickup (揽收) times"
    )
    outcome: str | None = Field(
        None,
        description="open, on_time, late, unshipped or cancelled",
    )
    compensation: list[CompensationPublic] = Field(
        default_factory=list, description="compensation recorded for the line, and its state"
    )


class OrderPublic(Public):
    id: int
    buyer: str | None
    paid_at: datetime
    total_fen: int
    lines: list[OrderLinePublic]
