"""The live-burst planner against small sessions computed by hand (SPEC §8).

The session starts at 10:00 Shanghai (02:00 UTC) on 26 Nov 2026. A tiered SKU promises
48 h for spot and 5 days for presale, so a spot line paid that morning ships by 28 Nov
and a presale line by 1 Dec (both local dates). Kuaishou pack: late = 10 % (¥5–¥30),
unshipped = 30 % (¥5–¥200), grace 24 h, spot share ≥ 70 % judged from 20 paid lines.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierstock.domain import burst
from tierstock.domain.allocation import choose_tier
from tierstock.domain.eligibility import ShareCount
from tierstock.domain.errors import InvalidValueError
from tierstock.domain.planner import CapacityBatch, PlanInput, plan_session, spot_needed
from tierstock.domain.promises import ship_by
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.policies import load_pack

PACK = load_pack("kuaishou")
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 local
TIERED = SalesFormSpec(SalesForm.TIERED, spot_window_hours=48, presale_days=5)
PRICE = 9_900  # ¥99: late owes ¥9.90, unshipped ¥29.70


def local_midnight(day: int, month: int = 12) -> datetime:
    return datetime.combine(date(2026, month, day), time(0, 0), tzinfo=SHANGHAI)


def flat(buyers: int, minutes: int, *sizes: tuple[int, int], seed: int = 0) -> burst.Arrivals:
    weights = burst.curve_weights(burst.shape_points("flat", minutes), minutes)
    return burst.curve_arrivals(buyers, weights, sizes or ((1, 1),), seed)


def session(spot: int = 10, batches: tuple[CapacityBatch, ...] | None = None,
            arrivals: burst.Arrivals | None = None, *, share: ShareCount | None = None,
            slip: int = 0, form: SalesFormSpec = TIERED, price: int = PRICE) -> PlanInput:
    return PlanInput(
        START, form, spot,
        batches if batches is not None else (CapacityBatch(20, local_midnight(1)),),
        arrivals or flat(40, 40), price, share or ShareCount(0, 0), slip)


# the burst --------------------------------------------------------------------------------
def test_a_flat_curve_spreads_buyers_evenly_with_remainders_to_the_earliest_minutes() -> None:
    assert burst.apportion(10, [1.0, 1.0, 1.0]) == (4, 3, 3)
    assert burst.apportion(40, burst.curve_weights(burst.shape_points("flat", 40), 40)) \
        == (1,) * 40


def test_curve_points_are_joined_by_straight_lines_and_held_flat_beyond_the_ends() -> None:
    assert burst.curve_weights([(1, 0.0), (3, 4.0)], 5) == [0.0, 0.0, 2.0, 4.0, 4.0]


def test_a_spike_puts_most_buyers_in_the_first_tenth_of_the_session() -> None:
    per_minute = burst.apportion(
        1_000, burst.curve_weights(burst.shape_points("spike", 100), 100))
    assert sum(per_minute) == 1_000
    assert sum(per_minute[:10]) > sum(per_minute[10:])


def test_an_unknown_shape_or_an_all_zero_curve_is_refused_with_the_field() -> None:
    with pytest.raises(InvalidValueError) as exc:
        burst.shape_points("tsunami", 10)
    assert exc.value.field == "curve.shape"
    with pytest.raises(InvalidValueError):
        burst.curve_weights([(0, 0.0)], 10)


def test_a_past_session_log_replays_in_payment_order_minute_by_minute() -> None:
    arrivals = burst.log_arrivals([(0, 2), (2, 3), (0, 1)])
    assert arrivals.per_minute == (2, 0, 1)
    assert arrivals.quantities == (2, 1, 3)


# the session -------------------------------------------------------------------------------
def test_spot_sells_out_at_the_minute_the_tenth_buyer_arrives_and_ten_are_refused() -> None:
    plan = plan_session(session(), PACK)
    assert plan.buyers == 40
    assert plan.spot_sold_out_minute == 9  # one buyer a minute, the 10th at minute 9
    assert (plan.spot_lines, plan.presale_lines, plan.refused_buyers) == (10, 20, 10)
    assert plan.capacity_sold_out_minute == 29
    assert [(p.tier, p.ship_by_date, p.lines) for p in plan.promises] == [
        (Tier.SPOT, date(2026, 11, 28), 10), (Tier.PRESALE, date(2026, 12, 1), 20)]


def test_the_series_burns_spot_down_first_then_presale_then_refuses() -> None:
    series = plan_session(session(), PACK).series
    assert len(series) == 40
    assert [p.spot_left for p in series[8:11]] == [1, 0, 0]
    assert series[10].presale_units == 1 and series[10].presale_left == 19
    assert series[30].refused == 1 and series[30].lines == 0
    assert sum(p.lines for p in series) == 30


def test_a_line_takes_presale_whole_when_spot_cannot_hold_it() -> None:
    # two buyers of 3 units against 4 spot: the first takes spot, the second presale.
    plan = plan_session(session(spot=4, arrivals=burst.log_arrivals([(0, 3), (1, 3)])), PACK)
    assert (plan.spot_units, plan.presale_units) == (3, 3)
    assert plan.spot_sold_out_minute is None  # one unit is left on the shelf


def test_a_batch_ready_after_the_presale_deadline_covers_no_line() -> None:
    late_batch = (CapacityBatch(20, local_midnight(2)),)  # deadlines fall on 1 Dec
    plan = plan_session(session(batches=late_batch), PACK)
    assert (plan.presale_lines, plan.refused_buyers) == (0, 30)


def test_a_presale_sku_sells_no_spot_and_a_spot_sku_sells_no_capacity() -> None:
    presale = SalesFormSpec(SalesForm.PRESALE, presale_days=5)
    plan = plan_session(session(form=presale), PACK)
    assert (plan.spot_lines, plan.presale_lines, plan.spot_sold_out_minute) == (0, 20, None)
    spot_only = SalesFormSpec(SalesForm.SPOT, spot_window_hours=48)
    plan = plan_session(session(form=spot_only), PACK)
    assert (plan.spot_lines, plan.presale_lines, plan.refused_buyers) == (10, 0, 30)


def test_a_batch_slipping_three_days_puts_exactly_its_own_lines_at_risk() -> None:
    # batch 0 (10 units, ready 28 Nov) covers minutes 10–19; batch 1 (10 units, ready
    # 1 Dec) covers minutes 20–29. Slipped 3 days, batch 1 arrives 4 Dec 00:00, more
    # than 24 h past the 1 Dec ~10:2x deadlines: 10 lines unshipped × ¥29.70.
    batches = (CapacityBatch(10, local_midnight(28, 11)), CapacityBatch(10, local_midnight(1)))
    plan = plan_session(session(batches=batches, slip=3), PACK)
    first, second = plan.risks
    assert (first.lines, first.late_lines, first.unshipped_lines, first.compensation_fen) \
        == (10, 0, 0, 0)
    assert (second.lines, second.late_lines, second.unshipped_lines) == (10, 0, 10)
    assert second.compensation_fen == 10 * 2_970
    assert plan.compensation_at_risk_fen == 29_700


def test_a_one_day_slip_is_late_not_unshipped_and_the_clamps_apply() -> None:
    batches = (CapacityBatch(10, local_midnight(28, 11)), CapacityBatch(10, local_midnight(1)))
    plan = plan_session(session(batches=batches, slip=1), PACK)
    assert (plan.risks[1].late_lines, plan.risks[1].compensation_fen) == (10, 10 * 990)
    # ¥1,000 lines: 10 % is ¥100, capped at ¥30; 30 % is ¥300, capped at ¥200.
    dear = plan_session(session(batches=batches, slip=1, price=100_000), PACK)
    assert dear.risks[1].compensation_fen == 10 * 3_000
    dearer = plan_session(session(batches=batches, slip=3, price=100_000), PACK)
    assert dearer.risks[1].compensation_fen == 10 * 20_000


def test_without_a_slip_nothing_is_at_risk() -> None:
    assert plan_session(session(), PACK).compensation_at_risk_fen == 0


# the spot-order share ------------------------------------------------------------------------
def test_the_share_after_adds_the_sessions_lines_to_the_window() -> None:
    plan = plan_session(session(share=ShareCount(60, 100)), PACK)
    assert plan.share_after == ShareCount(70, 130)  # 53.8 % < 70 %
    assert not plan.eligible_after


def test_the_search_finds_the_least_spot_quantity_that_keeps_the_share_eligible() -> None:
    # 60 of 100 before; 20 presale units. With S ≥ 20 spot, 40 buyers all buy and the
    # share is (60 + S) / 140: 70 % needs S ≥ 38 (98 / 140 = 70.00 %).
    inp = session(share=ShareCount(60, 100))
    assert spot_needed(inp, PACK) == 38
    assert plan_session(replace(inp, spot_quantity=38), PACK).eligible_after
    assert not plan_session(replace(inp, spot_quantity=37), PACK).eligible_after


def test_the_search_says_none_when_no_spot_quantity_is_enough_or_spot_is_not_sold() -> None:
    hopeless = session(share=ShareCount(0, 1_000))
    assert spot_needed(hopeless, PACK) is None
    presale = session(form=SalesFormSpec(SalesForm.PRESALE, presale_days=5))
    assert spot_needed(presale, PACK) is None


def test_a_share_not_yet_judged_passes_and_needs_no_spot() -> None:
    small = session(spot=0, batches=(CapacityBatch(5, local_midnight(1)),),
                    arrivals=flat(5, 5))
    assert spot_needed(small, PACK) == 0  # 5 paid lines < 20: not judged (assumption)


# determinism ---------------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_plan_and_other_seeds_may_differ() -> None:
    def plan(seed: int) -> object:
        arrivals = flat(300, 30, (1, 5), (2, 3), (3, 2), seed=seed)
        return plan_session(session(spot=100, batches=(CapacityBatch(200, local_midnight(1)),),
                                    arrivals=arrivals, slip=2), PACK)

    assert plan(7) == plan(7)
    assert any(plan(seed) != plan(7) for seed in range(8, 12))


def one_by_one(inp: PlanInput) -> tuple[int, int, int, list[int], int | None]:
    """Reference: every buyer through choose_tier, no shortcuts. Returns spot units,
    presale units, refused buyers, units taken from each batch, spot sell-out minute."""
    order = sorted(range(len(inp.batches)), key=lambda i: (inp.batches[i].ready_at, i))
    left = {i: inp.batches[i].quantity for i in order}
    spot, taken, refused, i = inp.spot_quantity, [0] * len(inp.batches), 0, 0
    sold_out = 0 if Tier.SPOT in inp.sales_form.tiers and spot == 0 else None
    for minute, arriving in enumerate(inp.arrivals.per_minute):
        usable = []
        if Tier.PRESALE in inp.sales_form.tiers:
            deadline = ship_by(START + timedelta(minutes=minute), inp.sales_form,
                               Tier.PRESALE, SHANGHAI)
            usable = [b for b in order if inp.batches[b].ready_at <= deadline]
        for q in inp.arrivals.quantities[i:i + arriving]:
            hold = max((left[b] for b in usable), default=0)
            tier = choose_tier(q, inp.sales_form.tiers, {Tier.SPOT: spot, Tier.PRESALE: hold})
            if tier is Tier.SPOT:
                spot -= q
                sold_out = minute if spot == 0 and sold_out is None else sold_out
            elif tier is Tier.PRESALE:
                b = next(b for b in usable if left[b] >= q)
                left[b] -= q
                taken[b] += q
            else:
                refused += 1
        i += arriving
    return inp.spot_quantity - spot, sum(taken), refused, taken, sold_out


BURSTS = {
    "mixed": ((1, 6), (2, 3), (5, 1)),
    # one-unit buyers are rare: a remnant of spot or of a batch holds only them
    "rare small": ((1, 1), (3, 400), (4, 300)),
}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mix", list(BURSTS))
def test_the_fast_path_agrees_with_buyer_by_buyer_allocation(seed: int, mix: str) -> None:
    # several batches, a 15-hour session that crosses local midnight: the batch ready
    # on 2 Dec becomes usable only for buyers paying from 00:00 on 27 Nov.
    weights = burst.curve_weights(burst.shape_points("spike", 900), 900)
    arrivals = burst.curve_arrivals(6_000, weights, BURSTS[mix], seed)
    batches = (CapacityBatch(700, local_midnight(30, 11)), CapacityBatch(3, local_midnight(1)),
               CapacityBatch(901, local_midnight(2)), CapacityBatch(50, local_midnight(29, 11)))
    inp = session(spot=1_234 + seed, batches=batches, arrivals=arrivals)
    plan = plan_session(inp, PACK, search=False)
    spot, presale, refused, taken, sold_out = one_by_one(inp)
    assert (plan.spot_units, plan.presale_units, plan.refused_buyers) == (spot, presale, refused)
    assert [r.units for r in plan.risks] == taken
    assert plan.spot_sold_out_minute == sold_out
    assert sum(p.units for p in plan.promises) == spot + presale
    assert plan.series[-1].spot_left == inp.spot_quantity - spot
    assert taken[2] > 0 and refused > 0


FORMS = (TIERED, SalesFormSpec(SalesForm.PRESALE, presale_days=5),
         SalesFormSpec(SalesForm.SPOT, spot_window_hours=24))


@settings(max_examples=60, deadline=None)
@given(form=st.sampled_from(FORMS), spot=st.integers(0, 60),
       batches=st.lists(st.tuples(st.integers(0, 40), st.integers(27, 33)), max_size=4),
       mix=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 5)), min_size=1, max_size=4)
       .filter(lambda m: any(w for _, w in m)),
       buyers=st.integers(0, 120), minutes=st.integers(1, 300), seed=st.integers(0, 99))
def test_any_small_session_matches_buyer_by_buyer_allocation(
        form: SalesFormSpec, spot: int, batches: list[tuple[int, int]],
        mix: list[tuple[int, int]], buyers: int, minutes: int, seed: int) -> None:
    weights = burst.curve_weights(burst.shape_points("spike", minutes), minutes)
    arrivals = burst.curve_arrivals(buyers, weights, mix, seed)
    capacity = tuple(CapacityBatch(q, local_midnight(d, 11) if d <= 30 else
                                   local_midnight(d - 30)) for q, d in batches)
    inp = session(spot=spot, batches=capacity, arrivals=arrivals, form=form)
    plan = plan_session(inp, PACK, search=False)
    spot_units, presale, refused, taken, sold_out = one_by_one(inp)
    assert (plan.spot_units, plan.presale_units, plan.refused_buyers) == (
        spot_units, presale, refused)
    assert [r.units for r in plan.risks] == taken
    assert plan.spot_sold_out_minute == sold_out


def test_bad_inputs_are_refused_with_the_field_named() -> None:
    with pytest.raises(InvalidValueError) as exc:
        plan_session(session(spot=-1), PACK)
    assert exc.value.field == "spot_quantity"
    with pytest.raises(InvalidValueError) as exc:
        plan_session(session(slip=-2), PACK)
    assert exc.value.field == "slip_days"
