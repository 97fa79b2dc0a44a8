"""Promises: open lines by urgency, the compensation scan, the risk and deadline delays."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import IsoDateTime, Trimmed
from tierstock.domain.compensation import CompensationRecord


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


class CompensationPublic(Public):
    """A recorded compensation: a claim the buyer may make, and where it stands."""

    order_id: int
    line_no: int
    kind: str = Field(description="late or unshipped")
    base: str = Field(description="line or order: what the rate was taken of")
    base_fen: int = Field(description="the paid value the rate was taken of")
    amount_fen: int = Field(description="what the pack's rule makes it")
    amount_yuan: str
    state: str = Field(description="owed, claimed, paid, waived or agreed")
    agreed_fen: int | None = None
    agreed_by: str | None = None
    settled_fen: int | None = Field(None, description="what was paid")
    outstanding_fen: int = Field(description="still to pay")
    outstanding_yuan: str
    deadline: datetime
    recorded_at: datetime
    state_by: str | None = None
    state_note: str | None = None
    state_at: datetime | None = None
    policy: str

    @classmethod
    def of(cls, r: CompensationRecord, zone: ZoneInfo) -> CompensationPublic:
        return cls(
            order_id=r.order_id,
            line_no=r.line_no,
            kind=r.kind.value,
            base=r.base.value,
            base_fen=r.paid_fen,
            amount_fen=r.amount_fen,
            amount_yuan=_yuan(r.amount_fen),
            state=r.state.value,
            agreed_fen=r.agreed_fen,
            agreed_by=r.agreed_by,
            settled_fen=r.settled_fen,
            outstanding_fen=r.outstanding_fen,
            outstanding_yuan=_yuan(r.outstanding_fen),
            deadline=r.deadline.astimezone(zone),
            recorded_at=r.created_at.astimezone(zone),
            state_by=r.state_by,
            state_note=r.state_note,
            state_at=r.state_at.astimezone(zone) if r.state_at else None,
            policy=r.policy,
        )


class CompensationsPublic(Public):
    data: list[CompensationPublic]
    count: int


Note = Annotated[str, Trimmed(0, 500)]
Kind = Annotated[str, Field(description="late or unshipped: only when the line has both")]


class CompensationNoteCreate(Strict):
    """Claim, pay or waive: a note of what the buyer said (required to waive)."""

    note: Note = ""
    kind: Kind | None = None


class CompensationAgreeCreate(Strict):
    amount_fen: int = Field(ge=0, le=10**12, description="at most the rule's amount")
    note: Note = Field(description="what the buyer agreed to, and how")
    kind: Kind | None = None


class PromisePublic(Public):
    order_id: int
    line_no: int
    sku_id: int
    tier: str
    paid_fen: int
    deadline: datetime
    urgency: str = Field(description="lapsed, overdue, due_soon or on_track")
    compensation_now_fen: int = Field(
        description="what shipping now would add; 0 once the line is recorded as broken"
    )
    compensation_now_yuan: str
    compensation_next_fen: int | None
    compensation_next_at: datetime | None
    compensation_record: CompensationPublic | None = Field(
        None, description="the compensation already recorded for the line (or its order)"
    )


class PromisesPublic(Public):
    as_of: datetime
    data: list[PromisePublic]
    count: int


class ScanPublic(Public):
    line_ids: int
    late_recorded: int
    unshipped_recorded: int
    seconds: float


class StateTotalPublic(Public):
    records: int
    amount_yuan: str = Field(description="the rule's amounts of these records")
    outstanding_yuan: str = Field(description="what of them is still to pay")


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
    outstanding_yuan: str = Field(
        description="recorded compensation still to pay: owed, claimed, or agreed and unpaid"
    )
    by_state: dict[str, StateTotalPublic]


class DelayCreate(Strict):
    kind: str = Field(description="delayed, appointment or negotiated")
    reason: Annotated[str, Trimmed(1, 400)]
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
