"""The pure capacity rules (domain/capacity.py): unit order, covering batch, promise,
beyond-window refusal, at-risk lines and their exposure, pace."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierstock.domain.capacity import (
    BatchStatus,
    CapacityBatch,
    CapacityBeyondWindowError,
    CapacityExhaustedError,
    PaidLine,
    RiskReason,
    at_risk,
    batch_promise,
    check_plan,
    layout_of,
    pace,
    presale_ship_by,
)
from tierstock.domain.errors import InsufficientStockError, InvalidValueError
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
from tierstock.policies import load_pack

SH = ZoneInfo("Asia/Shanghai")
PAID = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TIERED = SalesFormSpec(SalesForm.TIERED, spot_window_hours=48, presale_days=5)
FIXED = SalesFormSpec(SalesForm.PRESALE, presale_ship_by=date(2026, 12, 3))
RULES = load_pack("kuaishou").compensation


def batch(
    id: int,
    quantity: int,
    ready_on: date,
    status: BatchStatus = BatchStatus.CONFIRMED,
    in_tier: int | None = None,
) -> CapacityBatch:
    if in_tier is None:
        in_tier = quantity if status is BatchStatus.CONFIRMED else 0
    return CapacityBatch(id, 1, 1, 1, quantity, ready_on, status, in_tier, PAID)


def end_of(day: date, plus: int = 1) -> datetime:
    return (
        datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SH) + timedelta(days=plus)
    ).astimezone(UTC)


D28, D29, D30 = date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)


def test_unbatched_units_come_first_then_batches_by_ready_day() -> None:
    layout = layout_of(2 + 3 + 4, [batch(7, 4, D29), batch(5, 3, D28)])
    assert [(s.start, s.end, s.batch.id if s.batch else None) for s in layout.slots] == [
        (0, 2, None),
        (2, 5, 5),
        (5, 9, 7),
    ]
    assert layout.covering(2).batch is None  # type: ignore[union-attr]
    assert layout.covering(3).batch.id == 5  # type: ignore[union-attr]
    assert layout.covering(10) is None


def test_proposed_and_declined_batches_cover_nothing() -> None:
    layout = layout_of(
        0, [batch(1, 5, D28, BatchStatus.PROPOSED), batch(2, 5, D28, BatchStatus.DECLINED)]
    )
    assert layout.covered == 0


def test_a_shrink_held_up_by_promises_leaves_the_extra_units_uncovered() -> None:
    # revised 3 → 1 with 3 sold: the tier kept 3 units, the plan covers only 1
    layout = layout_of(3, [batch(1, 1, D28, in_tier=3)])
    assert layout.covered == 1 and layout.covering(2) is None


def test_a_received_batch_keeps_only_its_promised_units_in_the_order() -> None:
    layout = layout_of(4, [batch(1, 3, D28), batch(2, 3, D29, BatchStatus.RECEIVED, 1)])
    assert layout.covered == 4 and layout.promised_in(2, 4) == 1


def test_promised_units_are_the_sold_part_of_a_batchs_run() -> None:
    layout = layout_of(6, [batch(1, 3, D28), batch(2, 3, D29)])
    assert [layout.promised_in(b, 4) for b in (1, 2)] == [3, 1]
    assert layout.promised_in(9, 4) == 0


def test_a_batch_promises_the_end_of_its_ready_day_plus_handling() -> None:
    assert batch_promise(D28, PAID, 1, SH) == end_of(D28)


def test_a_batch_already_here_still_gives_handling_time_from_payment() -> None:
    assert batch_promise(date(2026, 11, 20), PAID, 1, SH) == PAID + timedelta(days=1)


def test_the_line_ships_by_the_batch_of_its_last_unit() -> None:
    layout = layout_of(1 + 2 + 2, [batch(1, 2, D28), batch(2, 2, D29)])
    assert presale_ship_by(layout, 1, 1, PAID, TIERED, 1, SH) == PAID + timedelta(days=5)
    assert presale_ship_by(layout, 3, 2, PAID, TIERED, 1, SH) == end_of(D28)
    assert presale_ship_by(layout, 4, 2, PAID, TIERED, 1, SH) == end_of(D29)


def test_a_batch_ready_too_late_for_the_window_is_refused() -> None:
    layout = layout_of(2, [batch(1, 2, D30)])  # ships by 1 Dec 23:59 > 1 Dec 10:00
    with pytest.raises(CapacityBeyondWindowError) as refused:
        presale_ship_by(layout, 1, 1, PAID, TIERED, 1, SH, field="lines[0].quantity")
    assert (refused.value.code, refused.value.kind, refused.value.field) == (
        "capacity_beyond_window",
        "conflict",
        "lines[0].quantity",
    )


def test_a_fixed_date_presale_accepts_batches_up_to_its_date() -> None:
    ok = layout_of(1, [batch(1, 1, date(2026, 12, 2))])
    assert presale_ship_by(ok, 1, 1, PAID, FIXED, 1, SH) == end_of(date(2026, 12, 2))
    late = layout_of(1, [batch(1, 1, date(2026, 12, 3))])
    with pytest.raises(CapacityBeyondWindowError):
        presale_ship_by(late, 1, 1, PAID, FIXED, 1, SH)


def test_units_beyond_confirmed_capacity_are_not_sellable() -> None:
    with pytest.raises(CapacityExhaustedError) as refused:
        presale_ship_by(layout_of(1, [batch(1, 1, D28)]), 2, 1, PAID, TIERED, 1, SH)
    assert isinstance(refused.value, InsufficientStockError)
    assert refused.value.code == "insufficient_stock"


def line(order_id: int, after: int, ship_by: datetime, qty: int = 1) -> PaidLine:
    return PaidLine(order_id, 1, qty, after, ship_by, qty * 19_900)


def test_a_shrunk_batch_flags_lines_pushed_into_a_later_batch_or_out_of_capacity() -> None:
    layout = layout_of(6, [batch(1, 1, D28, in_tier=3), batch(2, 3, D29)])
    lines = [line(i, i, end_of(D28) if i <= 3 else end_of(D29)) for i in range(1, 7)]
    found = at_risk(lines, layout, PAID, 1, SH, RULES)
    assert [(x.line.order_id, x.reason, x.batch_id) for x in found] == [
        (2, RiskReason.LATER_BATCH, 2),
        (3, RiskReason.LATER_BATCH, 2),
        (5, RiskReason.UNCOVERED, None),
        (6, RiskReason.UNCOVERED, None),
    ]
    assert [x.exposure_fen for x in found] == [1_990, 1_990, 5_970, 5_970]


def test_a_late_batch_puts_lines_at_risk_once_now_plus_handling_passes_their_promise() -> None:
    layout = layout_of(2, [batch(1, 2, D28)])
    lines = [line(1, 1, end_of(D28)), line(2, 2, end_of(D28, 3))]
    now = datetime(2026, 11, 29, 12, 0, tzinfo=SH)
    found = at_risk(lines, layout, now, 1, SH, RULES)
    assert [(x.line.order_id, x.reason) for x in found] == [(1, RiskReason.LATE_BATCH)]
    assert found[0].expected_ship == (now + timedelta(days=1)).astimezone(UTC)


def test_received_and_unbatched_units_put_nothing_at_risk() -> None:
    layout = layout_of(2, [batch(1, 1, D28, BatchStatus.RECEIVED, 1)])
    late_now = datetime(2026, 12, 20, tzinfo=UTC)
    assert at_risk([line(1, 1, PAID), line(2, 2, PAID)], layout, late_now, 1, SH, RULES) == []


def test_pace_says_when_capacity_runs_out() -> None:
    p = pace(12, 6, 10, PAID)
    assert (p.per_hour, p.runs_out_at) == (2.0, PAID + timedelta(hours=5))
    assert pace(0, 6, 10, PAID).runs_out_at is None
    assert pace(5, 6, 0, PAID).runs_out_at is None
    with pytest.raises(InvalidValueError):
        pace(1, 0, 1, PAID)


def test_a_plan_needs_units_and_a_day_not_in_the_past() -> None:
    check_plan(1, D28, D28)
    with pytest.raises(InvalidValueError, match="1 to"):
        check_plan(0, D28, D28)
    with pytest.raises(InvalidValueError, match="past"):
        check_plan(1, D28, D29)


@given(
    st.integers(0, 20),
    st.lists(
        st.tuples(st.integers(1, 20), st.integers(0, 30), st.sampled_from(list(BatchStatus))),
        max_size=6,
    ),
)
def test_every_covered_unit_has_exactly_one_slot(unbatched, specs) -> None:
    batches = [batch(i, q, D28 + timedelta(days=d), s) for i, (q, d, s) in enumerate(specs)]
    layout = layout_of(unbatched + sum(b.in_tier for b in batches), batches)
    assert layout.covered == unbatched + sum(b.covers for b in batches)
    for position in range(1, layout.covered + 1):
        assert sum(s.start < position <= s.end for s in layout.slots) == 1
    days = [s.batch.ready_on for s in layout.slots if s.batch is not None]
    assert days == sorted(days)
