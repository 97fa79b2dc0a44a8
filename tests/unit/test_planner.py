"""The live-burst planner against small sessions computed by hand (docs/rules.md §8).

The session starts at 10:00 Shanghai (02:00 UTC) on 26 Nov 2026. A tiered SKU promises
48 h for spot and a 5-day presale window, so a spot line paid that morning ships by
28 Nov and the window closes on 1 Dec 10:00 + the minute paid (local). Kuaishou pack:
handling 1 day, late = 10 % (¥5–¥30), unshipped = 30 % (¥5–¥200), grace 24 h, spot share
≥ 70 % judged from 20 paid lines.

Presale follows the live rules (domain/capacity.py): a line's promise comes from the batch
covering its last unit, end of the ready day + 1 day handling — a batch ready on 29 Nov
promises 30 Nov 23:59:59, within the window; one ready on 30 Nov would promise 1 Dec
23:59:59, past it, so its lines are refused. The default capacity is therefore one batch
of 20 ready on 29 Nov (it was 1 Dec under the planner's old model, where a batch only had
to be ready by the deadline). Expected values below were recomputed by hand for this.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierstock.domain import burst
from tierstock.domain.allocation import choose_tier
from tierstock.domain.capacity import (
    BatchStatus,
    CapacityBatch,
    CapacityBeyondWindowError,
    CapacityExhaustedError,
    presale_ship_by,
)
from tierstock.domain.eligibility import ShareCount
from tierstock.domain.errors import InvalidValueError, PresaleEndedError
from tierstock.domain.plan import PlanInput, PresaleStock, RefusalReason, what_if
from tierstock.domain.planner import plan_session, spot_needed
from tierstock.domain.promises import ship_by
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.policies import load_pack

PACK = load_pack("kuaishou")
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 local
TIERED = SalesFormSpec(SalesForm.TIERED, spot_window_hours=48, presale_days=5)
PRICE = 9_900  # ¥99: late owes ¥9.90, unshipped ¥29.70


NOV27, NOV28, NOV29, NOV30, DEC1 = (
    date(2026, 11, 27),
    date(2026, 11, 28),
    date(2026, 11, 29),
    date(2026, 11, 30),
    date(2026, 12, 1),
)
HANDLING = PACK.capacity.handling_days


def batches(*plans: tuple[int, date], unbatched: int = 0) -> PresaleStock:
    return what_if(plans, unbatched)


def flat(buyers: int, minutes: int, *sizes: tuple[int, int], seed: int = 0) -> burst.Arrivals:
    weights = burst.curve_weights(burst.shape_points("flat", minutes), minutes)
    return burst.curve_arrivals(buyers, weights, sizes or ((1, 1),), seed)


def session(
    spot: int = 10,
    presale: PresaleStock | None = None,
    arrivals: burst.Arrivals | None = None,
    *,
    share: ShareCount | None = None,
    slip: int = 0,
    form: SalesFormSpec = TIERED,
    price: int = PRICE,
) -> PlanInput:
    return PlanInput(
        START,
        form,
        spot,
        presale if presale is not None else batches((20, NOV29)),
        arrivals or flat(40, 40),
        price,
        share or ShareCount(0, 0),
        slip,
    )


# the burst --------------------------------------------------------------------------------
def test_a_flat_curve_spreads_buyers_evenly_with_remainders_to_the_earliest_minutes() -> None:
    assert burst.apportion(10, [1.0, 1.0, 1.0]) == (4, 3, 3)
    assert burst.apportion(40, burst.curve_weights(burst.shape_points("flat", 40), 40)) == (1,) * 40


def test_curve_points_are_joined_by_straight_lines_and_held_flat_beyond_the_ends() -> None:
    assert burst.curve_weights([(1, 0.0), (3, 4.0)], 5) == [0.0, 0.0, 2.0, 4.0, 4.0]


def test_a_spike_puts_most_buyers_in_the_first_tenth_of_the_session() -> None:
    per_minute = burst.apportion(1_000, burst.curve_weights(burst.shape_points("spike", 100), 100))
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
    # presale lines (minutes 10–29) all fall in the batch ready 29 Nov: end of that day
    # + 1 day handling = 30 Nov 23:59:59, inside every window (1 Dec 10:10 and later).
    plan = plan_session(session(), PACK)
    assert plan.buyers == 40
    assert plan.spot_sold_out_minute == 9  # one buyer a minute, the 10th at minute 9
    assert (plan.spot_lines, plan.presale_lines, plan.refused_buyers) == (10, 20, 10)
    assert plan.capacity_sold_out_minute == 29
    assert [(p.tier, p.ship_by_date, p.lines) for p in plan.promises] == [
        (Tier.SPOT, date(2026, 11, 28), 10),
        (Tier.PRESALE, NOV30, 20),
    ]
    assert plan.refusals == ((RefusalReason.SOLD_OUT, 10),)


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


def test_a_batch_whose_promise_falls_past_the_window_is_refused_not_skipped() -> None:
    # ready 30 Nov: promise 1 Dec 23:59:59 > window 1 Dec 10:10–10:39. The live order
    # is refused (capacity_beyond_window) and nothing is taken, so all 30 buyers after
    # spot are refused for that reason; the batch stays unsold.
    plan = plan_session(session(presale=batches((20, NOV30))), PACK)
    assert (plan.presale_lines, plan.refused_buyers) == (0, 30)
    assert plan.refusals == ((RefusalReason.BEYOND_WINDOW, 30),)
    assert plan.series[-1].presale_left == 20


def test_unbatched_units_sell_first_with_the_window_then_batches_by_ready_day() -> None:
    # 3 unbatched units, then 4 ready 29 Nov and 4 ready 27 Nov (sold first: earlier).
    # Buyers of 1 from minute 10 (spot gone): minutes 10–12 unbatched, window = paid +
    # 5 days → 1 Dec; 13–16 the 27 Nov batch → 28 Nov 23:59:59; 17–20 the 29 Nov
    # batch → 30 Nov 23:59:59; 21–39 refused (the tier is empty: sold_out).
    plan = plan_session(session(presale=batches((4, NOV29), (4, NOV27), unbatched=3)), PACK)
    assert [(p.tier, p.ship_by_date, p.lines) for p in plan.promises] == [
        (Tier.SPOT, NOV28, 10),
        (Tier.PRESALE, NOV28, 4),
        (Tier.PRESALE, NOV30, 4),
        (Tier.PRESALE, DEC1, 3),
    ]
    assert plan.refusals == ((RefusalReason.SOLD_OUT, 19),)


def test_a_line_spanning_two_batches_takes_the_promise_of_its_last_unit() -> None:
    # spot 0; 2 units ready 27 Nov, then 5 ready 29 Nov. Buyers 1, 3, 3 (one a minute):
    # units 1 | 2–4 (last unit in the 29 Nov batch → 30 Nov) | 5–7 (→ 30 Nov).
    plan = plan_session(
        session(
            spot=0,
            presale=batches((2, NOV27), (5, NOV29)),
            arrivals=burst.log_arrivals([(0, 1), (1, 3), (2, 3)]),
        ),
        PACK,
    )
    assert [(p.ship_by_date, p.lines, p.units) for p in plan.promises] == [
        (NOV28, 1, 1),
        (NOV30, 2, 6),
    ]
    first, second = plan.risks
    assert (first.lines, first.units, second.lines, second.units) == (1, 1, 2, 6)


def test_units_promised_before_the_session_are_not_sold_again() -> None:
    # the tier has sold 5 of 3 unbatched + 4 (27 Nov) + 4 (29 Nov): the 27 Nov batch
    # has 2 promised already. 10 spot, then 6 presale lines: 2 (→ 28 Nov), 4 (→ 30 Nov).
    stock = replace(batches((4, NOV27), (4, NOV29), unbatched=3), sold=5)
    plan = plan_session(session(presale=stock), PACK)
    assert [(p.ship_by_date, p.lines) for p in plan.promises if p.tier is Tier.PRESALE] == [
        (NOV28, 2),
        (NOV30, 4),
    ]
    assert [(r.promised_before, r.lines) for r in plan.risks] == [(2, 2), (0, 4)]


def test_a_window_crossing_midnight_opens_a_later_batch_to_later_buyers() -> None:
    # A session from 23:58 on 26 Nov (15:58 UTC): the window for minute m ends 1 Dec
    # 23:58 + m. The 30 Nov batch promises 1 Dec 23:59:59: beyond the window for
    # minutes 0–1, inside it from minute 2 (window 2 Dec 00:00). Presale-only, 1 a minute.
    late_start = replace(
        session(
            spot=0,
            presale=batches((5, NOV30)),
            arrivals=flat(4, 4),
            form=SalesFormSpec(SalesForm.PRESALE, presale_days=5),
        ),
        starts_at=datetime(2026, 11, 26, 15, 58, tzinfo=UTC),
    )
    plan = plan_session(late_start, PACK)
    assert (plan.presale_lines, plan.refused_buyers) == (2, 2)
    assert [p.refused for p in plan.series] == [1, 1, 0, 0]
    assert plan.refusals == ((RefusalReason.BEYOND_WINDOW, 2),)


def test_a_presale_sku_sells_no_spot_and_a_spot_sku_sells_no_capacity() -> None:
    presale = SalesFormSpec(SalesForm.PRESALE, presale_days=5)
    plan = plan_session(session(form=presale), PACK)
    assert (plan.spot_lines, plan.presale_lines, plan.spot_sold_out_minute) == (0, 20, None)
    spot_only = SalesFormSpec(SalesForm.SPOT, spot_window_hours=48)
    plan = plan_session(session(form=spot_only), PACK)
    assert (plan.spot_lines, plan.presale_lines, plan.refused_buyers) == (10, 0, 30)


TWO_BATCHES = batches((10, NOV27), (10, NOV29))


def test_a_batch_slipping_three_days_puts_exactly_its_own_lines_at_risk() -> None:
    # batch 0 (10 units, ready 27 Nov) covers minutes 10–19, promised 28 Nov 23:59:59;
    # batch 1 (10 units, ready 29 Nov) covers minutes 20–29, promised 30 Nov 23:59:59.
    # A promise is the batch's own ETA + handling, so any slip misses all its lines;
    # slipped 3 days each ships 3 days (> 24 h grace) late: 10 unshipped × ¥29.70 each.
    # (Old model: batch 0 had slack to a 1 Dec deadline and risked nothing.)
    plan = plan_session(session(presale=TWO_BATCHES, slip=3), PACK)
    first, second = plan.risks
    assert (first.lines, first.late_lines, first.unshipped_lines, first.compensation_fen) == (
        10,
        0,
        10,
        10 * 2_970,
    )
    assert (second.lines, second.late_lines, second.unshipped_lines) == (10, 0, 10)
    assert second.compensation_fen == 10 * 2_970
    assert plan.compensation_at_risk_fen == 59_400


def test_a_one_day_slip_is_late_not_unshipped_and_the_clamps_apply() -> None:
    # one day slipped ships exactly 24 h after the promise: within the grace, late.
    plan = plan_session(session(presale=TWO_BATCHES, slip=1), PACK)
    assert (plan.risks[1].late_lines, plan.risks[1].compensation_fen) == (10, 10 * 990)
    # ¥1,000 lines: 10 % is ¥100, capped at ¥30; 30 % is ¥300, capped at ¥200.
    dear = plan_session(session(presale=TWO_BATCHES, slip=1, price=100_000), PACK)
    assert dear.risks[1].compensation_fen == 10 * 3_000
    dearer = plan_session(session(presale=TWO_BATCHES, slip=3, price=100_000), PACK)
    assert dearer.risks[1].compensation_fen == 10 * 20_000


def test_without_a_slip_nothing_is_at_risk_and_unbatched_units_never_slip() -> None:
    assert plan_session(session(), PACK).compensation_at_risk_fen == 0
    own = plan_session(session(presale=PresaleStock(20), slip=5), PACK)
    assert (own.presale_lines, own.risks, own.compensation_at_risk_fen) == (20, (), 0)


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
    small = session(spot=0, presale=batches((5, NOV29)), arrivals=flat(5, 5))
    assert spot_needed(small, PACK) == 0  # 5 paid lines < 20: not judged (assumption)


# determinism ---------------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_plan_and_other_seeds_may_differ() -> None:
    def plan(seed: int) -> object:
        arrivals = flat(300, 30, (1, 5), (2, 3), (3, 2), seed=seed)
        return plan_session(
            session(spot=100, presale=batches((200, NOV29)), arrivals=arrivals, slip=2), PACK
        )

    assert plan(7) == plan(7)
    assert any(plan(seed) != plan(7) for seed in range(8, 12))


@dataclass
class Reference:
    spot: int = 0
    presale: int = 0
    refused: int = 0
    sold_out: int | None = None
    promises: Counter[tuple[Tier, date]] = field(default_factory=Counter)
    reasons: Counter[RefusalReason] = field(default_factory=Counter)
    taken: Counter[int] = field(default_factory=Counter)  # units by batch id


def one_by_one(inp: PlanInput) -> Reference:
    """Reference: every buyer as ``place_order`` serves it, no shortcuts — the first
    tier holding the line, then for presale the live promise of its last unit
    (``presale_ship_by``); a refused line takes nothing."""
    tiers, ref = inp.sales_form.tiers, Reference()
    layout, quantity = inp.presale.layout, inp.presale.quantity if Tier.PRESALE in tiers else 0
    spot, sold, i = inp.spot_quantity, inp.presale.sold, 0
    ref.sold_out = 0 if Tier.SPOT in tiers and spot == 0 else None
    for minute, arriving in enumerate(inp.arrivals.per_minute):
        paid_at = inp.starts_at + timedelta(minutes=minute)
        for q in inp.arrivals.quantities[i : i + arriving]:
            tier = choose_tier(q, tiers, {Tier.SPOT: spot, Tier.PRESALE: quantity - sold})
            if tier is Tier.SPOT:
                spot -= q
                ref.spot += q
                ref.sold_out = minute if spot == 0 and ref.sold_out is None else ref.sold_out
                ref.promises[
                    (
                        tier,
                        ship_by(paid_at, inp.sales_form, tier, SHANGHAI)
                        .astimezone(SHANGHAI)
                        .date(),
                    )
                ] += 1
                continue
            if tier is None:
                ref.refused += 1
                ref.reasons[RefusalReason.SOLD_OUT] += 1
                continue
            try:
                promise = presale_ship_by(
                    layout, sold + q, q, paid_at, inp.sales_form, HANDLING, SHANGHAI
                )
            except (CapacityExhaustedError, CapacityBeyondWindowError, PresaleEndedError) as exc:
                ref.refused += 1
                ref.reasons[
                    RefusalReason(
                        exc.code if exc.code != "insufficient_stock" else "capacity_exhausted"
                    )
                ] += 1
                continue
            sold += q
            ref.presale += q
            slot = layout.covering(sold)
            assert slot is not None
            if slot.batch is not None:
                ref.taken[slot.batch.id] += q
            ref.promises[(tier, promise.astimezone(SHANGHAI).date())] += 1
        i += arriving
    return ref


def assert_agrees(inp: PlanInput) -> Reference:
    plan = plan_session(inp, PACK, search=False)
    ref = one_by_one(inp)
    assert (plan.spot_units, plan.presale_units, plan.refused_buyers) == (
        ref.spot,
        ref.presale,
        ref.refused,
    )
    assert plan.spot_sold_out_minute == ref.sold_out
    assert {(p.tier, p.ship_by_date): p.lines for p in plan.promises} == dict(ref.promises)
    assert dict(plan.refusals) == dict(ref.reasons)
    assert [r.units for r in plan.risks] == [
        ref.taken[b.id] for b in inp.presale.batches if b.status is BatchStatus.CONFIRMED
    ]
    on_hand = inp.spot_quantity if Tier.SPOT in inp.sales_form.tiers else 0
    assert [p.spot_left for p in plan.series[-1:]] == [on_hand - ref.spot][: len(plan.series)]
    return ref


BURSTS = {
    "mixed": ((1, 6), (2, 3), (5, 1)),
    # one-unit buyers are rare: a remnant of spot or of a batch holds only them
    "rare small": ((1, 1), (3, 400), (4, 300)),
}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mix", list(BURSTS))
def test_the_fast_path_agrees_with_buyer_by_buyer_allocation(seed: int, mix: str) -> None:
    # several batches, a 15-hour session that crosses local midnight: the batch ready
    # on 30 Nov (promise 1 Dec 23:59:59) is beyond the window until buyers pay from
    # 00:00 on 27 Nov; the 1 Dec batch is beyond it all session.
    weights = burst.curve_weights(burst.shape_points("spike", 900), 900)
    arrivals = burst.curve_arrivals(6_000, weights, BURSTS[mix], seed)
    presale = batches((700, NOV30), (3, NOV28), (901, DEC1), (50, NOV29), unbatched=17)
    inp = session(spot=1_234 + seed, presale=presale, arrivals=arrivals)
    ref = assert_agrees(inp)
    assert ref.taken[0] > 0 and ref.taken[2] == 0
    assert ref.reasons[RefusalReason.BEYOND_WINDOW] > 0


FORMS = (
    TIERED,
    SalesFormSpec(SalesForm.PRESALE, presale_days=5),
    SalesFormSpec(SalesForm.SPOT, spot_window_hours=24),
    SalesFormSpec(SalesForm.PRESALE, presale_ship_by=DEC1),
)


@st.composite
def stored_presale(draw: st.DrawFn) -> PresaleStock:
    """A presale tier as the store may hold it: confirmed, received or declined batches
    (a held-up shrink or decline leaves ``in_tier`` above the plan), unbatched units,
    units already sold."""
    made = []
    for n in range(draw(st.integers(0, 4))):
        status = draw(
            st.sampled_from(
                [BatchStatus.CONFIRMED] * 3 + [BatchStatus.RECEIVED, BatchStatus.DECLINED]
            )
        )
        quantity = draw(st.integers(1, 40))
        in_tier = quantity if status is BatchStatus.CONFIRMED else 0
        in_tier += draw(st.integers(0, 5))
        made.append(
            CapacityBatch(
                n + 1,
                1,
                1,
                1,
                quantity,
                NOV27 + timedelta(days=draw(st.integers(-2, 6))),
                status,
                in_tier,
                START,
            )
        )
    quantity = max(0, sum(b.in_tier for b in made) + draw(st.integers(-10, 10)))
    return PresaleStock(quantity, draw(st.integers(0, quantity)), tuple(made), stored=True)


@settings(max_examples=80, deadline=None)
@given(
    form=st.sampled_from(FORMS),
    spot=st.integers(0, 60),
    presale=stored_presale(),
    mix=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 5)), min_size=1, max_size=4).filter(
        lambda m: any(w for _, w in m)
    ),
    buyers=st.integers(0, 120),
    minutes=st.integers(1, 300),
    seed=st.integers(0, 99),
    start_hour=st.integers(0, 23),
)
def test_any_small_session_matches_buyer_by_buyer_allocation(
    form: SalesFormSpec,
    spot: int,
    presale: PresaleStock,
    mix: list[tuple[int, int]],
    buyers: int,
    minutes: int,
    seed: int,
    start_hour: int,
) -> None:
    weights = burst.curve_weights(burst.shape_points("spike", minutes), minutes)
    arrivals = burst.curve_arrivals(buyers, weights, mix, seed)
    inp = session(spot=spot, presale=presale, arrivals=arrivals, form=form)
    assert_agrees(replace(inp, starts_at=START + timedelta(hours=start_hour)))


def test_bad_inputs_are_refused_with_the_field_named() -> None:
    with pytest.raises(InvalidValueError) as exc:
        plan_session(session(spot=-1), PACK)
    assert exc.value.field == "spot_quantity"
    with pytest.raises(InvalidValueError) as exc:
        plan_session(session(slip=-2), PACK)
    assert exc.value.field == "slip_days"
    with pytest.raises(InvalidValueError) as exc:
        plan_session(session(presale=PresaleStock(3, 4)), PACK)
    assert exc.value.field == "presale"


def test_an_order_log_with_old_mac_line_ends_reads_like_any_other() -> None:
    from tierstock.services.planner import parse_order_log

    log = parse_order_log("time,quantity\r2026-11-26T20:00:00,2\r2026-11-26T20:01:00,1\r")
    assert [q for _, q in log] == [2, 1]


@pytest.mark.parametrize("text", ["\r0", "x" * 200_000 + ",1"])
def test_an_order_log_that_is_not_csv_is_refused_naming_the_field(text: str) -> None:
    """Found by schemathesis: a stray carriage return used to be a 500."""
    from tierstock.services.planner import parse_order_log

    with pytest.raises(InvalidValueError) as refused:
        parse_order_log(text)
    assert refused.value.field == "order_log"
