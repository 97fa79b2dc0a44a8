"""Where a paid line stands against its promise, and mass non-fulfilment — docs/rules.md §7.

A line's *effective deadline* is its ship-by moved by the latest accepted delay
(``domain/delays.py``). Shipped after it but within the pack's grace period, it is
**late**; shipped after the grace period, or never shipped when the grace period ends,
it is **unshipped**. Before shipping, the merchant sees each open line's urgency and
what it would cost now and at its next step.

A shipment is judged by the carrier's pickup (揽收) when given, else by its shipped-at;
neither may be dated further back than the pack allows (``fulfilment.max_backdate_hours``)
nor before a scan that already judged the line (:func:`check_shipment_times`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tierstock.domain.compensation import BASIS_POINTS, CompensationKind, owed_fen
from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.domain.orders import LineStatus
from tierstock.domain.policy import FulfilmentRules, PolicyPack
from tierstock.domain.sales_forms import Tier


class Urgency(StrEnum):
    """An open (paid, unshipped) line, most urgent first."""

    LAPSED = "lapsed"  # grace period over: unshipped, compensation due
    OVERDUE = "overdue"  # past the deadline: shipping now is late
    DUE_SOON = "due_soon"  # deadline within the pack's due-soon hours
    ON_TRACK = "on_track"


URGENCY_ORDER = {u: i for i, u in enumerate(Urgency)}


def grace_end(deadline: datetime, rules: FulfilmentRules) -> datetime:
    return deadline + timedelta(hours=rules.grace_hours)


def shipment_outcome(
    shipped_at: datetime, deadline: datetime, rules: FulfilmentRules
) -> CompensationKind | None:
    """``None`` when on time, else the compensation kind the shipment incurs."""
    if shipped_at <= deadline:
        return None
    if shipped_at <= grace_end(deadline, rules):
        return CompensationKind.LATE
    return CompensationKind.UNSHIPPED


def urgency(deadline: datetime, now: datetime, rules: FulfilmentRules) -> Urgency:
    if now > grace_end(deadline, rules):
        return Urgency.LAPSED
    if now > deadline:
        return Urgency.OVERDUE
    if deadline - now <= timedelta(hours=rules.due_soon_hours):
        return Urgency.DUE_SOON
    return Urgency.ON_TRACK


@dataclass(frozen=True)
class Exposure:
    """What an open line costs if shipped now, and what it will cost from ``next_at``."""

    urgency: Urgency
    now_fen: int
    next_fen: int | None
    next_at: datetime | None


def exposure(paid_fen: int, deadline: datetime, now: datetime, pack: PolicyPack) -> Exposure:
    rules, comp = pack.fulfilment, pack.compensation
    level = urgency(deadline, now, rules)
    late = owed_fen(CompensationKind.LATE, paid_fen, comp)
    unshipped = owed_fen(CompensationKind.UNSHIPPED, paid_fen, comp)
    if level is Urgency.LAPSED:
        return Exposure(level, unshipped, None, None)
    if level is Urgency.OVERDUE:
        return Exposure(level, late, unshipped, grace_end(deadline, rules))
    return Exposure(level, 0, late, deadline)


def unrecorded(e: Exposure, recorded: frozenset[CompensationKind]) -> Exposure:
    """``e`` less what is already recorded: a line (or order) that owes *unshipped* adds
    nothing more; one that owes *late* adds nothing by being late."""
    if CompensationKind.UNSHIPPED in recorded:
        return Exposure(e.urgency, 0, None, None)
    if CompensationKind.LATE not in recorded:
        return e
    if e.urgency is Urgency.OVERDUE:
        return Exposure(e.urgency, 0, e.next_fen, e.next_at)
    if e.urgency is Urgency.LAPSED:
        return e
    return Exposure(e.urgency, 0, None, None)


class RiskLevel(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"


def share_bp(part: int, whole: int) -> int | None:
    """``part / whole`` in basis points, rounded down; ``None`` when nothing is due."""
    return None if whole <= 0 else part * BASIS_POINTS // whole


def risk_level(share: int | None, rules: FulfilmentRules) -> RiskLevel:
    """Violation at the pack's threshold; a warning from its warning share up."""
    if share is None or share < rules.mass_warning_bp:
        return RiskLevel.OK
    return RiskLevel.BREACHED if share >= rules.mass_threshold_bp else RiskLevel.WARNING


ON_TIME = "on_time"


@dataclass(frozen=True)
class Shipment:
    """A shipped line (发货): carrier, tracking number, when, and what it made the line."""

    line_id: int
    order_id: int
    line_no: int
    carrier: str
    tracking_no: str
    shipped_at: datetime
    deadline: datetime
    outcome: str  # "on_time", or the CompensationKind value it incurs
    actor: str
    recorded_at: datetime
    picked_up_at: datetime | None = None  # the carrier's pickup (揽收), when known

    @property
    def judged_at(self) -> datetime:
        """The time the line's lateness is judged by: the carrier's pickup when given."""
        return self.picked_up_at or self.shipped_at


class AlreadyShippedError(DomainError):
    code = "already_shipped"
    kind = "conflict"


class LineCancelledError(DomainError):
    code = "line_cancelled"
    kind = "conflict"


@dataclass(frozen=True)
class LineRef:
    """An order line with what promise handling needs (its order's payment time)."""

    id: int
    shop_id: int
    order_id: int
    line_no: int
    sku_id: int
    tier: Tier
    quantity: int
    unit_price_fen: int
    ship_by: datetime
    status: LineStatus
    paid_at: datetime

    @property
    def paid_fen(self) -> int:
        return self.quantity * self.unit_price_fen


@dataclass(frozen=True)
class OpenLine:
    line_id: int
    order_id: int
    line_no: int
    sku_id: int
    tier: str
    paid_fen: int
    deadline: datetime


@dataclass(frozen=True)
class ExposureSums:
    overdue_lines: int
    overdue_fen: int
    due_soon_lines: int
    due_soon_fen: int


class BackdatedShipmentError(DomainError):
    """A shipment dated further back than the pack allows (docs/rules.md §7.1)."""

    code = "shipment_backdated"
    kind = "invalid"


class ShippedBeforeJudgementError(DomainError):
    """A shipment dated before the promise scan recorded the line as broken."""

    code = "shipment_before_judgement"
    kind = "conflict"


class PickupAlreadyRecordedError(DomainError):
    code = "pickup_already_recorded"
    kind = "conflict"


def _stamp(dt: datetime) -> str:
    return dt.isoformat(timespec="minutes")


@dataclass(frozen=True)
class ShipmentTimes:
    """When a line left (``shipped_at``) and, if known, when the carrier picked it up."""

    shipped_at: datetime
    picked_up_at: datetime | None = None

    @property
    def judged_at(self) -> datetime:
        return self.picked_up_at or self.shipped_at


def check_shipment_times(
    times: ShipmentTimes,
    *,
    paid_at: datetime,
    now: datetime,
    judged_at: datetime | None,
    rules: FulfilmentRules,
) -> None:
    """Refuse shipment times that could hide a broken promise.

    Both times carry a zone and lie between payment and now; the pickup is not before
    the shipment. The shipment may be dated at most ``max_backdate_hours`` before now
    (the pickup, being later, is then bounded too), and neither time may fall before
    ``judged_at`` — the moment a scan recorded the line as broken: the line was still
    unshipped then, whatever a later entry says."""
    shipped, picked = times.shipped_at, times.picked_up_at
    for name, value in (("shipped_at", shipped), ("picked_up_at", picked)):
        if value is not None and (value.tzinfo is None or not paid_at <= value <= now):
            raise InvalidValueError(
                f"{name} must be a time between payment and now, with its time zone",
                field=name,
            )
    if picked is not None and picked < shipped:
        raise InvalidValueError(
            "the carrier cannot pick a parcel up before it was shipped", field="picked_up_at"
        )
    earliest = now - timedelta(hours=rules.max_backdate_hours)
    if shipped < earliest:
        raise BackdatedShipmentError(
            f"a shipment may be dated at most {rules.max_backdate_hours} h before it is "
            f"recorded (not before {_stamp(earliest)}); record it with its real time",
            field="shipped_at",
        )
    if judged_at is not None and shipped < judged_at:
        raise ShippedBeforeJudgementError(
            f"the line was recorded as unshipped at {_stamp(judged_at)}; a shipment cannot "
            "be dated before that",
            field="shipped_at",
        )


def check_pickup_correction(shipment: Shipment, picked_up_at: datetime, now: datetime) -> None:
    """A pickup recorded after the shipment: once, not before the shipment, not in the
    future. It can only move the judged time later, so it never hides a broken promise."""
    if shipment.picked_up_at is not None:
        raise PickupAlreadyRecordedError(
            f"the carrier's pickup was already recorded at {_stamp(shipment.picked_up_at)}",
            field="picked_up_at",
        )
    if picked_up_at.tzinfo is None or not shipment.shipped_at <= picked_up_at <= now:
        raise InvalidValueError(
            "picked_up_at must be a time between the shipment and now, with its time zone",
            field="picked_up_at",
        )


class LineOutcome(StrEnum):
    """What a line became, as an order shows it."""

    OPEN = "open"  # paid, unshipped, promise not yet broken past the grace period
    ON_TIME = ON_TIME
    LATE = CompensationKind.LATE.value
    UNSHIPPED = CompensationKind.UNSHIPPED.value
    CANCELLED = "cancelled"  # cancelled by the buyer or the merchant, owing nothing
