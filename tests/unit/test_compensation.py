"""Compensation clamps (docs/rules.md §7) at every boundary, for every shipped pack."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierstock.domain.compensation import (
    CompensationKind,
    compensation_fen,
    owed_fen,
    percentage_fen,
    yuan,
)
from tierstock.domain.policy import CompensationRule
from tierstock.policies import available_packs, load_pack

KS = load_pack("kuaishou").compensation
LATE, UNSHIPPED = KS.late, KS.unshipped
paid = st.integers(min_value=0, max_value=10**12)


@pytest.mark.parametrize(
    ("paid_fen", "owed"),
    [
        (1, 500),
        (4_999, 500),
        (5_000, 500),
        (5_001, 500),
        (5_005, 501),  # floor up to ¥50
        (10_000, 1_000),
        (29_999, 3_000),
        (30_000, 3_000),
        (30_001, 3_000),  # cap from ¥300
        (10**9, 3_000),
    ],
)
def test_late_shipment_owes_ten_percent_between_five_and_thirty_yuan(paid_fen, owed):
    assert owed_fen(CompensationKind.LATE, paid_fen, KS) == owed


@pytest.mark.parametrize(
    ("paid_fen", "owed"),
    [
        (1, 500),
        (1_666, 500),
        (1_667, 500),
        (1_668, 500),
        (1_669, 501),  # floor up to ¥16.67
        (10_000, 3_000),
        (66_666, 20_000),
        (66_667, 20_000),
        (66_668, 20_000),
        (10**9, 20_000),
    ],
)
def test_unshipped_owes_thirty_percent_between_five_and_two_hundred_yuan(paid_fen, owed):
    assert owed_fen(CompensationKind.UNSHIPPED, paid_fen, KS) == owed


def test_halves_round_up_to_the_fen():
    assert percentage_fen(5, 1_000) == 1  # 0.5 fen → 1
    assert percentage_fen(4, 1_000) == 0
    assert percentage_fen(12_345, 1_000) == 1_235  # 1 234.5 → 1 235


@given(paid)
def test_late_compensation_stays_within_the_clamp(p):
    assert LATE.min_fen <= compensation_fen(p, LATE) <= (LATE.max_fen or p)


@given(paid)
def test_late_compensation_is_the_rounded_percentage_strictly_between_the_edges(p):
    raw = percentage_fen(p, LATE.rate_bp)
    assert LATE.max_fen is not None
    if LATE.min_fen <= raw <= LATE.max_fen:
        assert compensation_fen(p, LATE) == raw
    assert abs(raw * 10_000 - p * LATE.rate_bp) <= 5_000  # within half a fen


@given(paid, paid)
def test_compensation_never_falls_when_the_paid_value_rises(a, b):
    low, high = sorted((a, b))
    for rule in (LATE, UNSHIPPED):
        assert compensation_fen(low, rule) <= compensation_fen(high, rule)


@given(paid)
def test_unshipped_never_owes_less_than_late(p):
    assert owed_fen(CompensationKind.UNSHIPPED, p, KS) >= owed_fen(CompensationKind.LATE, p, KS)


@given(
    st.integers(0, 10**9),
    st.integers(0, 10_000),
    st.integers(0, 10**6),
    st.one_of(st.none(), st.integers(0, 10**7)),
)
def test_any_rule_clamps_to_its_floor_and_cap(p, rate, floor, cap):
    if cap is not None and cap < floor:
        floor, cap = cap, floor
    got = compensation_fen(p, CompensationRule(rate, floor, cap))
    assert got >= floor
    if cap is not None:
        assert got <= cap


@pytest.mark.parametrize("name", available_packs())
def test_every_pack_has_sane_compensation(name):
    comp = load_pack(name).compensation
    for rule in (comp.late, comp.unshipped):
        assert 0 < rule.rate_bp <= 10_000 and rule.min_fen > 0
        assert rule.max_fen is None or rule.max_fen >= rule.min_fen


def test_taobao_has_no_confirmed_cap():
    assert load_pack("taobao").compensation.late.max_fen is None
    assert owed_fen(CompensationKind.LATE, 10**8, load_pack("taobao").compensation) == 3 * 10**7


def test_yuan_prints_fen_for_people():
    assert (yuan(3000), yuan(5), yuan(123456789)) == ("¥30.00", "¥0.05", "¥1,234,567.89")


def test_a_negative_paid_value_is_a_bug():
    with pytest.raises(ValueError):
        percentage_fen(-1, 1000)
