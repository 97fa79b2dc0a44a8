"""Promises: open lines by urgency, the compensation scan, the risk and deadline delays."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import IsoDateTime


class PromisePublic(Public):
    order_id: int
    line_no: int
    sku_id: int
    tier: str
    paid_fen: int
    deadline: datetime
    urgency: str = Field(description="lapsed, overdue, due_soon or on_track")
    compensation_now_fen: int
    compensation_now_yuan: str
    compensation_next_fen: int | None
    compensation_next_at: datetime | None


class PromisesPublic(Public):
    as_of: datetime
    data: list[PromisePublic]
    count: int


class ScanPublic(Public):
    line_ids: int
    late_recorded: int
    unshipped_recorded: int
    seconds: float


class PromiseRiskPublic(Public):
    window_days: int
    due_lines: int
    failed_lines: int
    overdue_open_lines: int
    share_percent: str
    projected_share_percent: str
    warning_percent: str
    threshold_percent: str
    level: str
    projected_level: str
    overdue_exposure_yuan: str
    due_soon_lines: int
    due_soon_exposure_yuan: str
    recorded_late_yuan: str
    recorded_unshipped_yuan: str


class DelayCreate(Strict):
    kind: str = Field(description="delayed, appointment or negotiated")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
    new_ship_by: IsoDateTime
    buyer_consent: bool = False


class DelayPublic(Public):
    kind: str
    reason: str
    actor: str
    buyer_consent: bool
    previous_ship_by: datetime
    new_ship_by: datetime
    created_at: datetime


class LineDelaysPublic(Public):
    original_ship_by: datetime
    effective_ship_by: datetime
    data: list[DelayPublic]
