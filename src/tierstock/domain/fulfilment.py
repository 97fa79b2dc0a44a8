"""Where a paid line stands against its promise, and mass non-fulfilment — docs/rules.md §7.

A line's *effective deadline* is its ship-by moved by the latest accepted delay
(``domain/delays.py``). Shipped after it but within the pack's grace period, it is
**late**; shipped after the grace period, or never shipped when the grace period ends,
it is **unshipped**. Before shipping, the merchant sees each open line's urgency and
what it would cost now and at its next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tierstock.domain.compensation import BASIS_POINTS, CompensationKind, owed_fen
from tierstock.domain.errors import DomainError
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
