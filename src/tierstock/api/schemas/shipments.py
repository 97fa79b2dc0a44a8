"""Shipments: ship one order line, or cancel it as unshippable, and what each recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import IsoDateTime, Trimmed
from tierstock.domain.fulfilment import Shipment

Text = Annotated[str, Trimmed(1, 100)]


class ShipmentCreate(Strict):
    carrier: Annotated[str, Trimmed(1, 60)]
    tracking_no: Text
    shipped_at: IsoDateTime | None = Field(
        None,
        description="when it left; default: now (the pickup, if that was earlier). At "
        "most the pack's fulfilment.max_backdate_hours before now, and not before a scan "
        "recorded the line as unshipped",
    )
    picked_up_at: IsoDateTime | None = Field(
        None,
        description="the carrier's pickup (揽收) time, if known: the line is judged by it; "
        "not before shipped_at",
    )


class PickupCreate(Strict):
    picked_up_at: IsoDateTime = Field(
        description="the carrier's pickup (揽收) time; not before the shipment, not in the future"
    )


class ShipmentPublic(Public):
    order_id: int
    line_no: int
    carrier: str
    tracking_no: str
    shipped_at: datetime
    picked_up_at: datetime | None = Field(
        None, description="the carrier's pickup (揽收) time, which judges the line when given"
    )
    recorded_at: datetime | None = Field(None, description="when the shipment was entered")
    deadline: datetime = Field(description="the line's effective deadline when it shipped")
    outcome: str = Field(description="on_time, late or unshipped")

    @classmethod
    def of(cls, x: Shipment, zone: ZoneInfo) -> ShipmentPublic:
        return cls(
            order_id=x.order_id,
            line_no=x.line_no,
            carrier=x.carrier,
            tracking_no=x.tracking_no,
            shipped_at=x.shipped_at.astimezone(zone),
            picked_up_at=x.picked_up_at.astimezone(zone) if x.picked_up_at else None,
            recorded_at=x.recorded_at.astimezone(zone),
            deadline=x.deadline.astimezone(zone),
            outcome=x.outcome,
        )


class UnshippableCreate(Strict):
    reason: Annotated[str, Trimmed(1, 400)]


class UnshippablePublic(Public):
    order_id: int
    line_no: int
    compensation_fen: int
    compensation_yuan: str
