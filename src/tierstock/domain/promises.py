"""Ship-by deadlines fixed at payment, and the promise a buyer reads before paying.

docs/rules.md §2: an order line's ship-by deadline is fixed at payment from the tier it took.
Spot promises a number of hours; presale promises a number of days or a fixed date.
Times are aware datetimes; the display zone comes from the policy pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tierstock.domain.errors import PresaleEndedError
from tierstock.domain.sales_forms import SalesFormSpec, Tier


def _end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(UTC)


def ship_by(paid_at: datetime, spec: SalesFormSpec, tier: Tier, zone: ZoneInfo) -> datetime:
    """The deadline (UTC) for a unit of ``tier`` paid at ``paid_at``."""
    if paid_at.tzinfo is None:
        raise ValueError("paid_at must be timezone-aware")
    if tier is Tier.SPOT:
        assert spec.spot_window_hours is not None
        return (paid_at + timedelta(hours=spec.spot_window_hours)).astimezone(UTC)
    if spec.presale_ship_by is not None:
        deadline = _end_of_local_day(spec.presale_ship_by, zone)
        if paid_at > deadline:
            raise PresaleEndedError(
                f"this presale had to ship by {spec.presale_ship_by.isoformat()}; "
                "it can take no more orders",
                field="sku_id",
            )
        return deadline
    assert spec.presale_days is not None
    return (paid_at + timedelta(days=spec.presale_days)).astimezone(UTC)


@dataclass(frozen=True)
class BuyerPromise:
    """What the product page shows for the next unit, in both languages."""

    tier: Tier | None
    ship_by: datetime | None
    text_en: str
    text_zh: str


SOLD_OUT = BuyerPromise(None, None, "sold out", "已售罄")

# English month abbreviations, fixed: strftime("%b") would follow the process locale.
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def buyer_promise(
    spec: SalesFormSpec,
    tier: Tier | None,
    now: datetime,
    zone: ZoneInfo,
    deadline: datetime | None = None,
) -> BuyerPromise:
    """The promise for a unit bought ``now`` from ``tier`` (``None``: nothing left).

    Spot reads "ships within 48 h"; presale reads "ships by 5 Dec" with the local date
    of the deadline a buyer paying now would get — the form's own rule, or ``deadline``
    when a supplier batch decides it (docs/rules.md §5).
    """
    if tier is None:
        return SOLD_OUT
    if deadline is None:
        try:
            deadline = ship_by(now, spec, tier, zone)
        except PresaleEndedError:
            return SOLD_OUT
    if tier is Tier.SPOT:
        hours = spec.spot_window_hours
        return BuyerPromise(tier, deadline, f"ships within {hours} h", f"{hours}小时内发货")
    local = deadline.astimezone(zone)
    return BuyerPromise(
        tier,
        deadline,
        f"ships by {local.day} {MONTHS_EN[local.month - 1]}",
        f"{local.month}月{local.day}日前发货",
    )
