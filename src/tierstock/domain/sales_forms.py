"""Sales forms (销售形式) and the tiers each may sell from — docs/rules.md §2.

A SKU holds two stock tiers: ``spot`` (on-hand units, ETA now) and ``presale``
(capacity that arrives later). The sales form decides which tiers may be sold, in which
order, and which promise each tier gives. Per-form behaviour lives in one mapping
(:data:`TIERS_BY_FORM`) rather than ``if`` chains across modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from tierstock.domain.errors import InvalidSalesFormError
from tierstock.domain.policy import PolicyPack


class SalesForm(StrEnum):
    SPOT = "spot"
    PRESALE = "presale"
    TIERED = "tiered"


class Tier(StrEnum):
    SPOT = "spot"
    PRESALE = "presale"


TIERS_BY_FORM: dict[SalesForm, tuple[Tier, ...]] = {
    SalesForm.SPOT: (Tier.SPOT,),
    SalesForm.PRESALE: (Tier.PRESALE,),
    # Earliest tier first: a line takes spot if spot holds it whole, else presale.
    SalesForm.TIERED: (Tier.SPOT, Tier.PRESALE),
}


@dataclass(frozen=True)
class SalesFormSpec:
    """A SKU's chosen form and its windows, already validated against a pack.

    ``spot_window_hours`` is set for spot and tiered; ``presale_days`` for tiered and
    for presale counted from payment; ``presale_ship_by`` for a fixed-date presale.
    """

    form: SalesForm
    spot_window_hours: int | None = None
    presale_days: int | None = None
    presale_ship_by: date | None = None

    @property
    def tiers(self) -> tuple[Tier, ...]:
        return TIERS_BY_FORM[self.form]


def _allowed(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _check_spot_window(hours: int | None, allowed: tuple[int, ...]) -> None:
    if hours is None or hours not in allowed:
        raise InvalidSalesFormError(
            f"spot window must be one of {_allowed(allowed)} hours, got {hours}",
            field="spot_window_hours",
        )


def _check_days(days: int | None, low: int, high: int, what: str) -> None:
    if days is None or not low <= days <= high:
        raise InvalidSalesFormError(
            f"{what} must be between {low} and {high} days, got {days}",
            field="presale_days",
        )


def validate_sales_form(spec: SalesFormSpec, policy: PolicyPack, *, today: date) -> SalesFormSpec:
    """Check ``spec`` against the pack; return it with irrelevant fields cleared.

    ``today`` is the merchant's local date, needed to judge a fixed presale date.
    """
    if spec.form is SalesForm.SPOT:
        _check_spot_window(spec.spot_window_hours, policy.spot.windows_hours)
        return SalesFormSpec(SalesForm.SPOT, spot_window_hours=spec.spot_window_hours)
    if spec.form is SalesForm.TIERED:
        _check_spot_window(spec.spot_window_hours, policy.tiered.spot_windows_hours)
        _check_days(
            spec.presale_days,
            policy.tiered.presale_min_days,
            policy.tiered.presale_max_days,
            "the presale tier of a tiered SKU",
        )
        return SalesFormSpec(
            SalesForm.TIERED,
            spot_window_hours=spec.spot_window_hours,
            presale_days=spec.presale_days,
        )
    return _validate_presale(spec, policy, today)


def _validate_presale(spec: SalesFormSpec, policy: PolicyPack, today: date) -> SalesFormSpec:
    rules = policy.presale
    if (spec.presale_days is None) == (spec.presale_ship_by is None):
        raise InvalidSalesFormError(
            "presale needs exactly one of presale_days or presale_ship_by",
            field="presale_days",
        )
    if spec.presale_ship_by is not None:
        ahead = (spec.presale_ship_by - today).days
        if not rules.min_days <= ahead <= rules.max_days:
            raise InvalidSalesFormError(
                f"presale_ship_by must be {rules.min_days} to {rules.max_days} days "
                f"after today ({today.isoformat()}), got {spec.presale_ship_by.isoformat()}",
                field="presale_ship_by",
            )
        return SalesFormSpec(SalesForm.PRESALE, presale_ship_by=spec.presale_ship_by)
    _check_days(spec.presale_days, rules.min_days, rules.max_days, "presale")
    return SalesFormSpec(SalesForm.PRESALE, presale_days=spec.presale_days)
