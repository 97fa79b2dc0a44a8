"""Tiered-shipping eligibility from store score and spot-order share (docs/rules.md §6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierstock.domain.eligibility import ShareCount, check_score, judge, refusal
from tierstock.domain.errors import InvalidValueError
from tierstock.policies import load_pack

RULES = load_pack("kuaishou").eligibility
ENOUGH = RULES.min_paid_lines


def test_a_shop_meeting_both_thresholds_is_eligible():
    share = ShareCount(spot_lines=ENOUGH, paid_lines=ENOUGH)
    assert judge(RULES.min_store_score_centi, share, RULES).eligible


def test_a_low_score_alone_makes_a_shop_ineligible():
    v = judge(RULES.min_store_score_centi - 1, ShareCount(ENOUGH, ENOUGH), RULES)
    assert not v.eligible and "store score" in v.reasons[0]


def test_the_share_is_judged_only_from_the_packs_minimum_of_lines():
    few = ShareCount(0, ENOUGH - 1)
    assert judge(None, few, RULES).eligible
    assert not judge(None, ShareCount(0, ENOUGH), RULES).eligible


def test_share_exactly_at_the_threshold_passes():
    paid = 10_000
    at = ShareCount(RULES.min_spot_share_bp * paid // 10_000, paid)
    below = ShareCount(at.spot_lines - 1, paid)
    assert judge(None, at, RULES).eligible
    assert not judge(None, below, RULES).eligible


def test_the_refusal_carries_both_figures_and_the_thresholds():
    err = refusal(judge(450, ShareCount(1, 40), RULES))
    assert err.kind == "conflict" and err.code == "tiered_not_eligible"
    for text in ("4.50", "4.60", "2.50 %", "70.00 %", "40 paid lines"):
        assert text in err.message


@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_share_is_a_fraction_in_basis_points(spot, extra):
    share = ShareCount(spot, spot + extra).share_bp
    assert share is not None and 0 <= share < 10_000


def test_scores_outside_the_scale_are_refused():
    check_score(0, RULES)
    check_score(RULES.max_store_score_centi, RULES)
    with pytest.raises(InvalidValueError):
        check_score(RULES.max_store_score_centi + 1, RULES)
    with pytest.raises(InvalidValueError):
        check_score(-1, RULES)
