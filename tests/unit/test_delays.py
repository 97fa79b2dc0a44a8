"""The three delay tools, their limits, and urgency of open lines (docs/rules.md §7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tierstock.domain.compensation import CompensationKind
from tierstock.domain.delays import (
    DelayKind,
    DelayNotAllowedError,
    DelayRequest,
    DelayTooLateError,
    check_delay,
    holiday_extended,
    parse_kind,
)
from tierstock.domain.fulfilment import (
    RiskLevel,
    Urgency,
    exposure,
    risk_level,
    share_bp,
    shipment_outcome,
)
from tierstock.domain.policy import HolidayPause
from tierstock.policies import load_pack

PACK = load_pack("kuaishou")
PAID = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DUE = PAID + timedelta(hours=48)
H = timedelta(hours=1)


def _check(kind, new, reason="force_majeure", consent=False, now=PAID, current=DUE, pack=PACK):
    return check_delay(
        DelayRequest(kind, reason, new, consent, "ops"),
        original=DUE,
        current=current,
        paid_at=PAID,
        now=now,
        pack=pack,
    )


def test_an_unknown_tool_is_refused_and_names_the_three():
    with pytest.raises(DelayNotAllowedError, match="delayed, appointment, negotiated"):
        parse_kind("extend")


def test_delayed_shipping_needs_an_accepted_reason():
    with pytest.raises(DelayNotAllowedError, match="big_promotion"):
        _check(DelayKind.DELAYED, DUE + H, reason="staff shortage")
    assert _check(DelayKind.DELAYED, DUE + H, reason="big_promotion").new_ship_by == DUE + H


@pytest.mark.parametrize(
    ("kind", "days"),
    [
        (DelayKind.DELAYED, PACK.delays.delayed_max_days),
        (DelayKind.APPOINTMENT, PACK.delays.appointment_max_days),
        (DelayKind.NEGOTIATED, PACK.delays.negotiated_max_days),
    ],
)
def test_each_tool_moves_the_deadline_up_to_its_limit_and_no_further(kind, days):
    limit = DUE + timedelta(days=days)
    assert _check(kind, limit, consent=True).new_ship_by == limit
    with pytest.raises(DelayNotAllowedError, match="at the latest"):
        _check(kind, limit + timedelta(seconds=1), consent=True)


@pytest.mark.parametrize("kind", [DelayKind.APPOINTMENT, DelayKind.NEGOTIATED])
def test_buyer_tools_need_the_buyers_consent(kind):
    with pytest.raises(DelayNotAllowedError, match="consent") as exc:
        _check(kind, DUE + H, reason="agreed")
    assert exc.value.field == "buyer_consent"


def test_a_deadline_only_moves_later_and_only_before_it_passes():
    with pytest.raises(DelayNotAllowedError, match="later"):
        _check(DelayKind.DELAYED, DUE)
    with pytest.raises(DelayTooLateError):
        _check(DelayKind.DELAYED, DUE + 2 * H, now=DUE + H)


def test_an_accepted_delay_records_who_why_and_the_previous_deadline():
    d = _check(
        DelayKind.NEGOTIATED, DUE + 5 * H, reason=" buyer said yes ", consent=True, current=DUE + H
    )
    assert (d.previous_ship_by, d.reason, d.actor, d.buyer_consent) == (
        DUE + H,
        "buyer said yes",
        "ops",
        True,
    )


def test_a_holiday_pause_extends_the_deadline_by_the_paused_time():
    zone = ZoneInfo("Asia/Shanghai")
    pause = HolidayPause("CNY", datetime(2027, 2, 1).date(), datetime(2027, 2, 3).date())
    paid = datetime(2027, 1, 31, 0, 0, tzinfo=zone)
    due = paid + timedelta(days=2)  # 2 Feb 00:00 local; 1 day left when the pause starts
    assert holiday_extended(paid, due, (pause,), zone) == datetime(2027, 2, 5, tzinfo=zone)
    assert holiday_extended(paid, paid + H, (pause,), zone) == paid + H  # due before it
    inside = datetime(2027, 2, 2, 12, 0, tzinfo=zone)  # paid during the pause
    assert holiday_extended(inside, inside + H, (pause,), zone) == datetime(
        2027, 2, 4, 1, 0, tzinfo=zone
    )


def test_holiday_delay_may_exceed_the_delayed_limit_by_the_pause():
    pause = HolidayPause("long", PAID.date(), PAID.date() + timedelta(days=30))
    pack = replace(PACK, holidays=replace(PACK.holidays, pauses=(pause,)))
    far = DUE + timedelta(days=PACK.delays.delayed_max_days + 1)
    assert _check(DelayKind.DELAYED, far, reason="holiday", pack=pack).new_ship_by == far
    closed = replace(pack, holidays=replace(pack.holidays, suspends_deadlines=False))
    with pytest.raises(DelayNotAllowedError, match="holidays"):
        _check(DelayKind.DELAYED, DUE + H, reason="holiday", pack=closed)


def test_shipments_are_on_time_late_or_unshipped_by_the_grace_period():
    grace = timedelta(hours=PACK.fulfilment.grace_hours)
    rules = PACK.fulfilment
    assert shipment_outcome(DUE, DUE, rules) is None
    assert shipment_outcome(DUE + H, DUE, rules) is CompensationKind.LATE
    assert shipment_outcome(DUE + grace, DUE, rules) is CompensationKind.LATE
    assert shipment_outcome(DUE + grace + H, DUE, rules) is CompensationKind.UNSHIPPED


def test_exposure_shows_the_cost_now_and_at_the_next_step():
    grace = timedelta(hours=PACK.fulfilment.grace_hours)
    soon = DUE - timedelta(hours=PACK.fulfilment.due_soon_hours)
    assert exposure(10_000, DUE, soon - H, PACK).urgency is Urgency.ON_TRACK
    due_soon = exposure(10_000, DUE, soon, PACK)
    assert (due_soon.urgency, due_soon.now_fen, due_soon.next_fen) == (Urgency.DUE_SOON, 0, 1000)
    late = exposure(10_000, DUE, DUE + H, PACK)
    assert (late.urgency, late.now_fen, late.next_fen, late.next_at) == (
        Urgency.OVERDUE,
        1000,
        3000,
        DUE + grace,
    )
    gone = exposure(10_000, DUE, DUE + grace + H, PACK)
    assert (gone.urgency, gone.now_fen, gone.next_fen) == (Urgency.LAPSED, 3000, None)


def test_mass_non_fulfilment_warns_before_the_threshold():
    rules = PACK.fulfilment
    assert share_bp(0, 0) is None and risk_level(None, rules) is RiskLevel.OK
    assert risk_level(rules.mass_warning_bp - 1, rules) is RiskLevel.OK
    assert risk_level(rules.mass_warning_bp, rules) is RiskLevel.WARNING
    assert risk_level(rules.mass_threshold_bp, rules) is RiskLevel.BREACHED
    assert share_bp(1, 3) == 3333
