"""Ship-by deadlines fixed at payment and the promise a buyer reads (docs/rules.md §2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tierstock.domain.errors import PresaleEndedError
from tierstock.domain.promises import buyer_promise, ship_by
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPOT_48 = SalesFormSpec(SalesForm.SPOT, spot_window_hours=48)
PRESALE_5_DAYS = SalesFormSpec(SalesForm.PRESALE, presale_days=5)
PRESALE_BY_5_DEC = SalesFormSpec(SalesForm.PRESALE, presale_ship_by=date(2025, 12, 5))
TIERED = SalesFormSpec(SalesForm.TIERED, spot_window_hours=24, presale_days=5)


def shanghai(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


# --- ship_by -----------------------------------------------------------------------------


@pytest.mark.parametrize("hours", [24, 48, 72])
def test_spot_ships_within_its_window_of_hours_after_payment(hours):
    paid = datetime(2025, 12, 1, 10, 15, tzinfo=UTC)
    spec = SalesFormSpec(SalesForm.SPOT, spot_window_hours=hours)
    assert ship_by(paid, spec, Tier.SPOT, SHANGHAI) == paid + timedelta(hours=hours)


def test_deadlines_are_given_in_utc_whatever_zone_the_payment_was_in():
    paid = shanghai(2025, 12, 1, 20, 0)
    deadline = ship_by(paid, SPOT_48, Tier.SPOT, SHANGHAI)
    assert deadline.utcoffset() == timedelta(0)
    assert deadline == datetime(2025, 12, 3, 12, 0, tzinfo=UTC)


def test_presale_by_days_ships_that_many_days_after_payment():
    paid = datetime(2025, 12, 1, 10, 15, tzinfo=UTC)
    assert ship_by(paid, PRESALE_5_DAYS, Tier.PRESALE, SHANGHAI) == paid + timedelta(days=5)


def test_tiered_spot_unit_uses_the_spot_window_and_presale_unit_the_presale_days():
    paid = datetime(2025, 12, 1, 10, 15, tzinfo=UTC)
    assert ship_by(paid, TIERED, Tier.SPOT, SHANGHAI) == paid + timedelta(hours=24)
    assert ship_by(paid, TIERED, Tier.PRESALE, SHANGHAI) == paid + timedelta(days=5)


def test_fixed_date_presale_ships_by_the_end_of_that_day_in_shanghai():
    paid = datetime(2025, 11, 28, 9, 0, tzinfo=UTC)
    deadline = ship_by(paid, PRESALE_BY_5_DEC, Tier.PRESALE, SHANGHAI)
    assert deadline.astimezone(SHANGHAI).date() == date(2025, 12, 5)
    assert deadline.astimezone(SHANGHAI).hour == 23
    assert deadline.astimezone(SHANGHAI).minute == 59
    assert shanghai(2025, 12, 5, 23, 59) <= deadline < shanghai(2025, 12, 6, 0, 0)


def test_fixed_date_deadline_does_not_depend_on_when_the_buyer_paid():
    early = ship_by(shanghai(2025, 11, 20, 8, 0), PRESALE_BY_5_DEC, Tier.PRESALE, SHANGHAI)
    late = ship_by(shanghai(2025, 12, 4, 22, 0), PRESALE_BY_5_DEC, Tier.PRESALE, SHANGHAI)
    assert early == late


def test_fixed_date_presale_still_sells_at_23_30_shanghai_on_its_last_day():
    paid = shanghai(2025, 12, 5, 23, 30)
    deadline = ship_by(paid, PRESALE_BY_5_DEC, Tier.PRESALE, SHANGHAI)
    assert deadline > paid


def test_fixed_date_presale_has_ended_just_after_midnight_shanghai_though_utc_is_still_that_day():
    paid = shanghai(2025, 12, 6, 0, 0, 30)
    assert paid.astimezone(UTC).date() == date(2025, 12, 5)
    with pytest.raises(PresaleEndedError) as info:
        ship_by(paid, PRESALE_BY_5_DEC, Tier.PRESALE, SHANGHAI)
    assert info.value.code == "presale_ended"
    assert "2025-12-05" in info.value.message


@pytest.mark.parametrize(
    ("spec", "tier"),
    [(SPOT_48, Tier.SPOT), (PRESALE_5_DAYS, Tier.PRESALE), (PRESALE_BY_5_DEC, Tier.PRESALE)],
)
def test_a_payment_time_without_a_timezone_is_refused(spec, tier):
    with pytest.raises(ValueError, match="timezone"):
        ship_by(datetime(2025, 12, 1, 10, 0), spec, tier, SHANGHAI)


# --- buyer_promise -----------------------------------------------------------------------


def test_spot_promise_reads_ships_within_48_h_in_both_languages():
    now = datetime(2025, 12, 1, 10, 0, tzinfo=UTC)
    promise = buyer_promise(SPOT_48, Tier.SPOT, now, SHANGHAI)
    assert promise.text_en == "ships within 48 h"
    assert promise.text_zh == "48小时内发货"
    assert promise.tier is Tier.SPOT
    assert promise.ship_by == now + timedelta(hours=48)


def test_fixed_date_promise_reads_ships_by_5_dec_in_both_languages():
    promise = buyer_promise(
        PRESALE_BY_5_DEC, Tier.PRESALE, datetime(2025, 11, 28, 9, 0, tzinfo=UTC), SHANGHAI
    )
    assert promise.text_en == "ships by 5 Dec"
    assert promise.text_zh == "12月5日前发货"
    assert promise.tier is Tier.PRESALE


def test_presale_days_promise_paid_at_23_30_shanghai_names_the_shanghai_date():
    now = shanghai(2025, 11, 30, 23, 30)
    promise = buyer_promise(PRESALE_5_DAYS, Tier.PRESALE, now, SHANGHAI)
    assert promise.text_en == "ships by 5 Dec"
    assert promise.text_zh == "12月5日前发货"
    assert promise.ship_by == now + timedelta(days=5)


def test_presale_days_promise_just_after_midnight_shanghai_counts_from_the_shanghai_date():
    now = shanghai(2025, 12, 1, 0, 30)  # still 30 Nov in UTC
    assert now.astimezone(UTC).date() == date(2025, 11, 30)
    promise = buyer_promise(PRESALE_5_DAYS, Tier.PRESALE, now, SHANGHAI)
    assert promise.text_en == "ships by 6 Dec"
    assert promise.text_zh == "12月6日前发货"


def test_tiered_promise_changes_from_hours_to_a_date_when_spot_is_sold_out():
    now = shanghai(2025, 12, 1, 12, 0)
    assert buyer_promise(TIERED, Tier.SPOT, now, SHANGHAI).text_en == "ships within 24 h"
    assert buyer_promise(TIERED, Tier.PRESALE, now, SHANGHAI).text_en == "ships by 6 Dec"


def test_promise_reads_sold_out_when_no_tier_is_left():
    promise = buyer_promise(TIERED, None, shanghai(2025, 12, 1, 12, 0), SHANGHAI)
    assert (promise.text_en, promise.text_zh) == ("sold out", "已售罄")
    assert promise.tier is None and promise.ship_by is None


def test_promise_reads_sold_out_once_a_fixed_date_presale_has_ended():
    promise = buyer_promise(PRESALE_BY_5_DEC, Tier.PRESALE, shanghai(2025, 12, 6, 0, 1), SHANGHAI)
    assert promise.text_en == "sold out"
    assert promise.ship_by is None
