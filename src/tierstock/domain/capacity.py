"""Supplier capacity (产能确认) for presale — docs/rules.md §3, §5.

Pure: no I/O, the clock passed in.

A supplier's plan is a set of **batches** (quantity by date). Only *confirmed* batches
are sellable capacity; the presale tier's ``quantity`` holds them (a confirm adds the
batch, a revise changes it by the delta, a decline removes it — never below what is
already promised). Units the merchant entered on the presale tier itself (opening
``presale_stock``, receipts) stay sellable as **unbatched** capacity.

The presale tier's units are ordered: unbatched units first (they promise the form's
presale window, as without batches), then the batches by ready date. A line holds units
(tier_sold_after − quantity, tier_sold_after]; the batch covering its *last* unit gives
its ship-by: max(payment + handling, end of the ready day + handling), refused if that
is beyond the presale window (DESIGN: "every sellable unit sits in a batch with an ETA").

Decisions (issue 4):
- Unbatched units are the merchant's own word that those units exist; they are kept so
  SKUs without a supplier plan sell exactly as before, and they sell first because they
  promise nothing earlier than the window. Lowering the presale tier by hand (set stock)
  lowers unbatched units first.
- A shrink or decline held up by promised units leaves ``in_tier`` above the plan; those
  units are covered by nothing, so they are never sold again (the hot path refuses
  them) and the lines on them show as at risk. They are released at the batch's next
  action.
- A line's units are positions in the tier's ``sold`` sequence; after a cancel the next
  sale reuses the freed position, so a position may belong to two lines' histories —
  the covering batch of each is still judged by its own position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tierstock.domain.compensation import CompensationKind, owed_fen
from tierstock.domain.errors import DomainError, InsufficientStockError, InvalidValueError
from tierstock.domain.policy import CompensationRules
from tierstock.domain.promises import ship_by
from tierstock.domain.sales_forms import SalesFormSpec, Tier

MAX_BATCH_QUANTITY = 10_000_000


class BatchStatus(StrEnum):
    PROPOSED = "proposed"  # the merchant's plan, not yet sellable
    CONFIRMED = "confirmed"  # the supplier committed: sellable presale capacity
    DECLINED = "declined"  # the supplier cannot make it (terminal)
    RECEIVED = "received"  # on hand (terminal): its unpromised remainder went to spot


class CapacityBeyondWindowError(DomainError):
    """The batch that would cover the line is ready too late for the presale window."""

    code = "capacity_beyond_window"
    kind = "conflict"


class CapacityExhaustedError(InsufficientStockError):
    """The presale tier shows units, but no confirmed capacity backs them any more
    (a batch shrank or was declined below what was already promised)."""


class BatchStateError(DomainError):
    """The action does not apply to a batch in its current status."""

    code = "batch_state"
    kind = "conflict"


@dataclass(frozen=True)
class Supplier:
    id: int
    shop_id: int
    name: str
    created_at: datetime


class BatchAction(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REVISED = "revised"
    DECLINED = "declined"
    RECEIVED = "received"


@dataclass(frozen=True)
class Revision:
    """One action on a batch (history): the quantity and ready day after it."""

    batch_id: int
    action: BatchAction
    quantity: int
    ready_on: date
    actor: str
    note: str
    at: datetime


@dataclass(frozen=True)
class CapacityBatch:
    """One planned delivery. ``in_tier`` is what the batch currently adds to the presale
    tier's quantity: its quantity once confirmed, more than that while a shrink or a
    decline is held up by promised units, only its promised units once received."""

    id: int
    shop_id: int
    sku_id: int
    supplier_id: int
    quantity: int
    ready_on: date
    status: BatchStatus
    in_tier: int
    created_at: datetime

    @property
    def covers(self) -> int:
        """Units of the tier this batch backs in the ordering."""
        if self.status is BatchStatus.CONFIRMED:
            return self.quantity
        if self.status is BatchStatus.RECEIVED:
            return self.in_tier
        return 0

    def target_in_tier(self) -> int:
        """What the batch should add to the tier in its status (before any clamp)."""
        return self.quantity if self.status is BatchStatus.CONFIRMED else 0


def check_plan(quantity: int, ready_on: date, today: date) -> None:
    if not 1 <= quantity <= MAX_BATCH_QUANTITY:
        raise InvalidValueError(f"a batch holds 1 to {MAX_BATCH_QUANTITY} units", field="quantity")
    if ready_on < today:
        raise InvalidValueError(f"ready_on {ready_on.isoformat()} is in the past", field="ready_on")


@dataclass(frozen=True)
class Slot:
    """A run of the presale tier's units: (start, end] with one ETA (``None``: unbatched)."""

    start: int
    end: int
    batch: CapacityBatch | None


@dataclass(frozen=True)
class CapacityLayout:
    """The presale tier's units in sale order: unbatched, then batches by ready date."""

    slots: tuple[Slot, ...]

    @property
    def covered(self) -> int:
        return self.slots[-1].end if self.slots else 0

    def covering(self, position: int) -> Slot | None:
        """The slot holding unit ``position`` (1-based), ``None`` beyond all capacity."""
        for slot in self.slots:
            if slot.start < position <= slot.end:
                return slot
        return None

    def promised_in(self, batch_id: int, sold: int) -> int:
        """Units of the batch already promised when the tier's ``sold`` is ``sold``."""
        for slot in self.slots:
            if slot.batch is not None and slot.batch.id == batch_id:
                return max(0, min(sold, slot.end) - slot.start)
        return 0


def layout_of(tier_quantity: int, batches: Iterable[CapacityBatch]) -> CapacityLayout:
    """Order the tier's units. Unbatched = tier quantity − what the batches add (never
    below 0: a merchant who lowers the presale tier by hand lowers unbatched units)."""
    batches = list(batches)
    unbatched = max(0, tier_quantity - sum(b.in_tier for b in batches))
    slots: list[Slot] = []
    end = 0
    if unbatched:
        slots.append(Slot(0, unbatched, None))
        end = unbatched
    for b in sorted((b for b in batches if b.covers > 0), key=lambda b: (b.ready_on, b.id)):
        slots.append(Slot(end, end + b.covers, b))
        end += b.covers
    return CapacityLayout(tuple(slots))


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(UTC)


def batch_promise(
    ready_on: date, paid_at: datetime, handling_days: int, zone: ZoneInfo
) -> datetime:
    """Ship-by from a batch: max(payment + handling, end of the ready day + handling)."""
    handling = timedelta(days=handling_days)
    return max(paid_at + handling, end_of_day(ready_on, zone) + handling).astimezone(UTC)


def presale_ship_by(
    layout: CapacityLayout,
    last_unit: int,
    quantity: int,
    paid_at: datetime,
    spec: SalesFormSpec,
    handling_days: int,
    zone: ZoneInfo,
    *,
    field: str = "quantity",
) -> datetime:
    """The ship-by of a presale line whose last unit is ``last_unit`` (see module).

    Raises :class:`CapacityExhaustedError` past all confirmed capacity and
    :class:`CapacityBeyondWindowError` when the covering batch is ready too late.
    """
    window = ship_by(paid_at, spec, Tier.PRESALE, zone)
    slot = layout.covering(last_unit)
    if slot is None:
        raise CapacityExhaustedError(
            f"fewer than {quantity} units of confirmed supplier capacity are left", field=field
        )
    if slot.batch is None:
        return window
    promise = batch_promise(slot.batch.ready_on, paid_at, handling_days, zone)
    if promise > window:
        raise CapacityBeyondWindowError(
            f"the supplier batch that would cover these units is ready on "
            f"{slot.batch.ready_on.isoformat()}; shipping by "
            f"{promise.astimezone(zone):%Y-%m-%d %H:%M} is beyond the presale window "
            f"({window.astimezone(zone):%Y-%m-%d %H:%M})",
            field=field,
        )
    return promise


@dataclass(frozen=True)
class PaidLine:
    """A paid presale line as the risk check needs it."""

    order_id: int
    line_no: int
    quantity: int
    tier_sold_after: int
    ship_by: datetime
    paid_fen: int


class RiskReason(StrEnum):
    UNCOVERED = "uncovered"  # no confirmed capacity backs the line any more
    LATE_BATCH = "late_batch"  # its batch's ready day passed without a receipt
    LATER_BATCH = "later_batch"  # it now falls in a batch ready after its promise


@dataclass(frozen=True)
class AtRiskLine:
    line: PaidLine
    batch_id: int | None
    reason: RiskReason
    expected_ship: datetime | None  # None: no capacity to ship it from
    exposure_fen: int


def expected_ship(
    batch: CapacityBatch, now: datetime, handling_days: int, zone: ZoneInfo
) -> datetime:
    """When the batch's units can ship at the earliest: a late batch (ready day passed,
    not received) can arrive at best now."""
    eta = max(end_of_day(batch.ready_on, zone), now)
    return (eta + timedelta(days=handling_days)).astimezone(UTC)


def is_late(batch: CapacityBatch, now: datetime, zone: ZoneInfo) -> bool:
    return batch.status is BatchStatus.CONFIRMED and end_of_day(batch.ready_on, zone) < now


def at_risk(
    lines: Iterable[PaidLine],
    layout: CapacityLayout,
    now: datetime,
    handling_days: int,
    zone: ZoneInfo,
    rules: CompensationRules,
) -> list[AtRiskLine]:
    """Paid presale lines whose promise the capacity can no longer keep, with what each
    would owe: *unshipped* compensation when nothing covers it, *late* otherwise."""
    found = []
    for line in lines:
        slot = layout.covering(line.tier_sold_after)
        if slot is None:
            found.append(
                AtRiskLine(
                    line,
                    None,
                    RiskReason.UNCOVERED,
                    None,
                    owed_fen(CompensationKind.UNSHIPPED, line.paid_fen, rules),
                )
            )
            continue
        batch = slot.batch
        if batch is None or batch.status is BatchStatus.RECEIVED:
            continue
        expected = expected_ship(batch, now, handling_days, zone)
        if expected > line.ship_by:
            reason = RiskReason.LATE_BATCH if is_late(batch, now, zone) else RiskReason.LATER_BATCH
            found.append(
                AtRiskLine(
                    line,
                    batch.id,
                    reason,
                    expected,
                    owed_fen(CompensationKind.LATE, line.paid_fen, rules),
                )
            )
    return found


@dataclass(frozen=True)
class Pace:
    """Presale units sold per hour over the last ``hours``, the confirmed capacity still
    unpromised, and when it runs out at that pace (``None``: no sales, or none left)."""

    hours: int
    units_sold: int
    remaining: int
    runs_out_at: datetime | None

    @property
    def per_hour(self) -> float:
        return self.units_sold / self.hours


def pace(units_sold: int, hours: int, remaining: int, now: datetime) -> Pace:
    if hours <= 0:
        raise InvalidValueError("the pace window must be at least 1 hour", field="hours")
    runs_out = None
    if units_sold > 0 and remaining > 0:
        runs_out = now + timedelta(hours=remaining * hours / units_sold)
    return Pace(hours, units_sold, max(0, remaining), runs_out)
