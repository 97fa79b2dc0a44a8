"""The live-burst planner's inputs and results (docs/rules.md §8), as plain values.

:mod:`tierstock.domain.planner` runs the simulation; these are what goes in and what
comes out, shared by the service, the API, the CLI and the workbench.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from tierstock.domain.burst import Arrivals
from tierstock.domain.capacity import (
    BatchStatus,
    CapacityBatch,
    CapacityLayout,
    layout_of,
)
from tierstock.domain.eligibility import ShareCount
from tierstock.domain.sales_forms import SalesFormSpec, Tier

MINUTE = timedelta(minutes=1)
_WHAT_IF_CREATED = datetime(2000, 1, 1, tzinfo=UTC)  # what-if batches were made by no one


class RefusalReason(StrEnum):
    """Why the live system would refuse a buyer (the error the order would get)."""

    SOLD_OUT = "sold_out"  # no tier holds the whole line (insufficient_stock)
    CAPACITY_EXHAUSTED = "capacity_exhausted"  # presale units no confirmed batch backs
    BEYOND_WINDOW = "capacity_beyond_window"  # its batch ships after the presale window
    PRESALE_ENDED = "presale_ended"  # a fixed-date presale already over


@dataclass(frozen=True)
class PresaleStock:
    """The presale tier as the hot path finds it when the session starts: its
    ``quantity`` and ``sold`` figures and the SKU's supplier batches (as stored: the
    layout keeps only those backing units). Units sell in the order of
    :func:`~tierstock.domain.capacity.layout_of`; position ``sold + 1`` is the next."""

    quantity: int = 0
    sold: int = 0
    batches: tuple[CapacityBatch, ...] = ()
    stored: bool = False  # the batches are the store's (their ids mean something)

    @property
    def layout(self) -> CapacityLayout:
        return layout_of(self.quantity, self.batches)


def what_if(batches: Sequence[tuple[int, date]], unbatched: int = 0) -> PresaleStock:
    """Presale as given in a plan request: confirmed batches (quantity, ready day) with
    nothing promised yet, after ``unbatched`` units of the merchant's own. A batch's id
    is its index, so equal ready days keep the request's order."""
    made = tuple(
        CapacityBatch(i, 0, 0, 0, q, day, BatchStatus.CONFIRMED, q, _WHAT_IF_CREATED)
        for i, (q, day) in enumerate(batches)
    )
    return PresaleStock(unbatched + sum(q for q, _ in batches), 0, made)


@dataclass(frozen=True)
class PlanInput:
    starts_at: datetime
    sales_form: SalesFormSpec
    spot_quantity: int
    presale: PresaleStock
    arrivals: Arrivals
    price_fen: int
    share_before: ShareCount
    slip_days: int = 0


@dataclass(frozen=True)
class PromiseCount:
    """Lines promised from ``tier`` with a deadline on local date ``ship_by_date``."""

    tier: Tier
    ship_by_date: date
    lines: int
    units: int


@dataclass(frozen=True)
class MinutePoint:
    """One minute of the session, for the burn-down chart (remaining = end of minute;
    ``presale_left``: presale units a confirmed batch or the merchant still backs)."""

    minute: int
    buyers: int
    lines: int
    spot_units: int
    presale_units: int
    refused: int
    spot_left: int
    presale_left: int


@dataclass(frozen=True)
class BatchRisk:
    """What one confirmed batch slipping by ``slip_days`` breaks among the session's
    lines it covers, and what it would cost. ``index``: the batch's place in
    ``PresaleStock.batches``; ``promised_before``: its units promised before."""

    index: int
    batch_id: int | None
    ready_on: date
    quantity: int
    promised_before: int
    lines: int
    units: int
    late_lines: int
    unshipped_lines: int
    compensation_fen: int


@dataclass(frozen=True)
class Plan:
    buyers: int
    spot_lines: int
    spot_units: int
    presale_lines: int
    presale_units: int
    refused_buyers: int
    refused_units: int
    spot_sold_out_minute: int | None
    capacity_sold_out_minute: int | None
    promises: tuple[PromiseCount, ...]
    series: tuple[MinutePoint, ...]
    share_before: ShareCount
    share_after: ShareCount
    eligible_after: bool
    slip_days: int
    risks: tuple[BatchRisk, ...]
    spot_needed: int | None  # least spot quantity keeping the share eligible, if any
    refusals: tuple[tuple[RefusalReason, int], ...] = ()  # buyers refused, by reason

    @property
    def compensation_at_risk_fen(self) -> int:
        return sum(r.compensation_fen for r in self.risks)
