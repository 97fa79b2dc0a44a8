"""Which tier a line takes (docs/rules.md §2) and the check that no unit went to two buyers (§3)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tierstock.domain.allocation import TierStock, choose_tier, units_held_twice
from tierstock.domain.sales_forms import TIERS_BY_FORM, SalesForm, Tier

TIERED = TIERS_BY_FORM[SalesForm.TIERED]


def test_a_line_takes_spot_while_spot_holds_it_whole():
    assert choose_tier(2, TIERED, {Tier.SPOT: 2, Tier.PRESALE: 10}) is Tier.SPOT


def test_presale_tier_starts_when_spot_is_sold_out():
    assert choose_tier(1, TIERED, {Tier.SPOT: 0, Tier.PRESALE: 10}) is Tier.PRESALE


def test_a_line_is_never_split_across_tiers():
    assert choose_tier(3, TIERED, {Tier.SPOT: 2, Tier.PRESALE: 10}) is Tier.PRESALE


def test_a_3_unit_line_skips_spot_with_2_left_and_a_later_2_unit_line_still_takes_spot():
    available = {Tier.SPOT: 2, Tier.PRESALE: 10}
    first = choose_tier(3, TIERED, available)
    assert first is Tier.PRESALE
    available[first] -= 3
    second = choose_tier(2, TIERED, available)
    assert second is Tier.SPOT
    assert available == {Tier.SPOT: 2, Tier.PRESALE: 7}


def test_nothing_is_chosen_when_no_tier_holds_the_whole_line():
    assert choose_tier(11, TIERED, {Tier.SPOT: 2, Tier.PRESALE: 10}) is None


def test_a_spot_only_sku_never_sells_from_presale():
    spot_only = TIERS_BY_FORM[SalesForm.SPOT]
    assert choose_tier(3, spot_only, {Tier.SPOT: 2, Tier.PRESALE: 10}) is None


def test_a_presale_only_sku_never_sells_from_spot():
    presale_only = TIERS_BY_FORM[SalesForm.PRESALE]
    assert choose_tier(1, presale_only, {Tier.SPOT: 5, Tier.PRESALE: 0}) is None


def test_a_tier_missing_from_the_figures_counts_as_empty():
    assert choose_tier(1, TIERED, {Tier.PRESALE: 1}) is Tier.PRESALE
    assert choose_tier(1, TIERED, {}) is None


def test_tier_stock_available_is_quantity_minus_sold():
    assert TierStock(Tier.SPOT, quantity=20, sold=7).available == 13


# --- units_held_twice --------------------------------------------------------------------


def test_lines_holding_consecutive_units_hold_nothing_twice():
    # (sold after the line, its quantity): units 1-2, 3, 4-6
    assert units_held_twice([(2, 2), (3, 1), (6, 3)]) == 0


def test_order_of_the_lines_does_not_matter():
    assert units_held_twice([(6, 3), (2, 2), (3, 1)]) == 0


def test_two_lines_given_the_same_unit_count_once_each_extra_claim():
    assert units_held_twice([(5, 1), (5, 1)]) == 1


def test_overlapping_lines_count_the_units_they_share():
    # units 1-5 and 4-8 share units 4 and 5
    assert units_held_twice([(5, 5), (8, 5)]) == 2


def test_a_line_inside_another_counts_all_its_units():
    assert units_held_twice([(10, 10), (4, 2)]) == 2


def test_no_lines_hold_nothing_twice():
    assert units_held_twice([]) == 0


# --- property: a burst modelled with choose_tier ------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    spot=st.integers(min_value=0, max_value=30),
    presale=st.integers(min_value=0, max_value=60),
    quantities=st.lists(st.integers(min_value=1, max_value=6), max_size=60),
)
def test_allocating_in_payment_order_never_oversells_and_fills_spot_first(
    spot, presale, quantities
):
    stock = {Tier.SPOT: spot, Tier.PRESALE: presale}
    sold = {Tier.SPOT: 0, Tier.PRESALE: 0}
    holdings: dict[Tier, list[tuple[int, int]]] = {Tier.SPOT: [], Tier.PRESALE: []}
    for qty in quantities:
        available = {t: stock[t] - sold[t] for t in Tier}
        tier = choose_tier(qty, TIERED, available)
        if tier is not Tier.SPOT:
            # spot is skipped only when it cannot hold the whole line
            assert available[Tier.SPOT] < qty
        if tier is None:
            assert available[Tier.PRESALE] < qty
            continue
        sold[tier] += qty
        holdings[tier].append((sold[tier], qty))

    for tier in Tier:
        assert 0 <= sold[tier] <= stock[tier]
        assert units_held_twice(holdings[tier]) == 0
        assert sold[tier] == sum(qty for _, qty in holdings[tier])


@settings(max_examples=200, deadline=None)
@given(spot=st.integers(min_value=0, max_value=30), buyers=st.integers(min_value=0, max_value=80))
def test_single_unit_buyers_take_spot_exactly_in_payment_order(spot, buyers):
    stock = {Tier.SPOT: spot, Tier.PRESALE: 1_000}
    taken = []
    for _ in range(buyers):
        tier = choose_tier(1, TIERED, stock)
        assert tier is not None
        stock[tier] -= 1
        taken.append(tier)
    first = min(spot, buyers)
    assert taken[:first] == [Tier.SPOT] * first
    assert taken[first:] == [Tier.PRESALE] * (buyers - first)
