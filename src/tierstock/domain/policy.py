"""The numbers of a platform's rules, as one frozen value.

Every rule number lives in a policy pack file (``policies/<platform>.toml``); this module
only gives it a shape. The domain receives a :class:`PolicyPack` and never reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal


@dataclass(frozen=True)
class SpotRules:
    """Spot (现货): ship within N hours of payment, N from a closed list."""

    windows_hours: tuple[int, ...]


@dataclass(frozen=True)
class PresaleRules:
    """Presale (预售): ship within D days of payment, or by a fixed date."""

    min_days: int
    max_days: int


@dataclass(frozen=True)
class TieredRules:
    """Tiered spot + presale (现货+预售阶梯发货): spot window plus a short presale window."""

    spot_windows_hours: tuple[int, ...]
    presale_min_days: int
    presale_max_days: int


@dataclass(frozen=True)
class OrderLimits:
    """Bounds on one order, so a typo cannot empty a SKU or flood the ledger."""

    max_line_quantity: int
    max_lines_per_order: int


@dataclass(frozen=True)
class CompensationRule:
    """Compensation owed to the buyer for one line (docs/rules.md §7): ``rate_bp`` basis points
    (1/100 of a percent) of the line's paid value, clamped to ``[min_fen, max_fen]``;
    ``max_fen = None`` means the pack knows no cap."""

    rate_bp: int
    min_fen: int
    max_fen: int | None = None


@dataclass(frozen=True)
class CompensationRules:
    """``base``: whether a rate is taken of the broken line's paid value (one record per
    line) or of its whole order's (one record per order and kind), docs/rules.md §7.2."""

    late: CompensationRule
    unshipped: CompensationRule
    base: Literal["line", "order"]


@dataclass(frozen=True)
class FulfilmentRules:
    """When an unshipped line becomes *unshipped*, and the mass non-fulfilment rule.

    ``grace_hours``: a paid line still unshipped this long after its deadline is
    unshipped (缺货/未发货). Shares are basis points of lines due in the trailing window.
    ``max_backdate_hours``: how far before its recording a shipment may be dated, so a
    late shipment cannot be back-dated to escape compensation (docs/rules.md §7.1).
    """

    grace_hours: int
    due_soon_hours: int
    mass_window_days: int
    mass_threshold_bp: int
    mass_warning_bp: int
    max_backdate_hours: int


@dataclass(frozen=True)
class DelayRules:
    """The three delay tools (延迟发货 / 预约发货 / 协商发货) and their limits (docs/rules.md §7).

    Each ``*_max_days`` bounds how far past the line's original ship-by a tool may move
    the deadline. ``delayed_reasons`` are the platform-accepted reasons of delayed
    shipping; the ``*_needs_consent`` flags say whether the buyer's consent must be
    recorded for the tool.
    """

    delayed_reasons: tuple[str, ...]
    delayed_max_days: int
    appointment_max_days: int
    negotiated_max_days: int
    delayed_needs_consent: bool
    appointment_needs_consent: bool
    negotiated_needs_consent: bool


@dataclass(frozen=True)
class EligibilityRules:
    """Tiered-shipping eligibility (docs/rules.md §6). Store score in hundredths of a point
    (4.60 → 460); spot share in basis points over ``window_days``; with fewer than
    ``min_paid_lines`` paid lines in the window the share is not judged."""

    max_store_score_centi: int
    min_store_score_centi: int
    min_spot_share_bp: int
    window_days: int
    min_paid_lines: int
    trend_points: int
    trend_step_days: int
    pulling_products: int


@dataclass(frozen=True)
class HolidayPause:
    """A logistics pause (e.g. the Spring Festival 春节): ``start`` to ``end`` inclusive,
    local dates of the pack's display zone."""

    name: str
    start: date
    end: date


@dataclass(frozen=True)
class HolidayRules:
    """Whether declared pauses may suspend ship-by deadlines (via delayed shipping)."""

    suspends_deadlines: bool
    pauses: tuple[HolidayPause, ...] = field(default=())


@dataclass(frozen=True)
class CapacityRules:
    """Supplier capacity (产能确认, docs/rules.md §5): ``handling_days`` is the time from a batch
    arriving to its units being shipped; a presale line covered by a batch promises
    max(payment + handling, end of the batch's ready day + handling)."""

    handling_days: int


@dataclass(frozen=True)
class ApiRules:
    """The platform's open API as a channel uses it (docs/rules.md §10):
    ``calls_per_second`` bounds the stock pushes to one store, so a push storm drains
    within the platform's rate limit instead of being refused."""

    calls_per_second: int


@dataclass(frozen=True)
class PolicyPack:
    name: str
    version: str
    display_timezone: str
    spot: SpotRules
    presale: PresaleRules
    tiered: TieredRules
    orders: OrderLimits
    compensation: CompensationRules
    fulfilment: FulfilmentRules
    delays: DelayRules
    eligibility: EligibilityRules
    holidays: HolidayRules
    capacity: CapacityRules
    api: ApiRules
