"""Shipments: ship one order line, or cancel it as unshippable, and what each recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import IsoDateTime

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ShipmentCreate(Strict):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    tracking_no: Text
    shipped_at: IsoDateTime | None = Field(
        None, description="when it left (with offset); default: now"
    )


class ShipmentPublic(Public):
    order_id: int
    line_no: int
    carrier: str
    tracking_no: str
    shipped_at: datetime
    deadline: datetime = Field(description="the line's effective deadline when it shipped")
    outcome: str = Field(description="on_time, late or unshipped")


class UnshippableCreate(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


class UnshippablePublic(Public):
    order_id: int
    line_no: int
    compensation_fen: int
    compensation_yuan: str
