"""The live-burst planner through its service and its CLI, on SQLite and PostgreSQL.

The clock stands at 10:00 Shanghai on 26 Nov 2026 (the ``clock`` fixture). A tiered SKU
with 10 spot and 20 presale units meets 40 one-unit buyers, one a minute. The presale
window closes 1 Dec 10:00 + the minute paid; handling is 1 day, so a batch ready on
29 Nov promises 30 Nov 23:59:59 and one ready on 30 Nov or later is beyond the window.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from typer.testing import CliRunner

from tierstock.cli import plan as cli_plan
from tierstock.cli import support as cli_support
from tierstock.domain.capacity import (
    BatchAction,
    CapacityBeyondWindowError,
    CapacityExhaustedError,
)
from tierstock.domain.eligibility import ShareCount
from tierstock.domain.errors import (
    InsufficientStockError,
    InvalidValueError,
    NotFoundError,
    PresaleEndedError,
)
from tierstock.domain.orders import LineRequest
from tierstock.domain.plan import RefusalReason
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import capacity, capacity_plans, catalogue, shops, stock
from tierstock.services.placing import PlaceOrder, place_order
from tierstock.services.planner import BatchIn, PlanLive, plan_live
from tierstock.services.runtime import Runtime


class Clock(Protocol):
    """The ``clock`` fixture (tests/conftest.py ManualClock): tests move ``now``."""

    now: datetime


TIERED = SalesFormSpec(SalesForm.TIERED, spot_window_hours=48, presale_days=5)


def open_shop(runtime: Runtime) -> int:
    return shops.create_shop(shops.CreateShop("直播间"), runtime.uow()).shop.id


def new_sku(runtime: Runtime, shop_id: int, *, spot: int = 10, presale: int = 20) -> int:
    product = catalogue.create_product(catalogue.CreateProduct(shop_id, "连衣裙"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop_id, product.id, "DRESS-M", 9_900, TIERED, spot_stock=spot, presale_stock=presale
        ),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop_id, product.id, True), runtime.uow())
    return sku.id


def burst(shop_id: int, sku_id: int | None, **extra: Any) -> PlanLive:
    fields: dict[str, Any] = {"buyers": 40, "duration_minutes": 40, "curve_shape": "flat"}
    return PlanLive(shop_id, sku_id, **{**fields, **extra})


def test_a_plan_reads_the_skus_form_price_and_tier_stock(runtime: Runtime) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    result = plan_live(burst(shop_id, sku_id), runtime.uow(readonly=True))
    plan = result.plan
    assert (result.input.spot_quantity, result.input.price_fen) == (10, 9_900)
    assert plan.spot_sold_out_minute == 9
    assert (plan.spot_lines, plan.presale_lines, plan.refused_buyers) == (10, 20, 10)
    assert [(p.tier, p.ship_by_date) for p in plan.promises] == [
        (Tier.SPOT, date(2026, 11, 28)),
        (Tier.PRESALE, date(2026, 12, 1)),
    ]


def test_without_supplier_batches_presale_units_are_the_merchants_own_and_never_slip(
    runtime: Runtime,
) -> None:
    # the 20 presale units are unbatched (as the live system sells them): each promises
    # the form's window, and no batch can slip. (The old model assumed one batch at the
    # window's edge, so a one-day slip made all 20 late.)
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    result = plan_live(burst(shop_id, sku_id, slip_days=1), runtime.uow(readonly=True))
    assert (result.input.presale.quantity, result.input.presale.batches) == (20, ())
    assert result.plan.presale_lines == 20
    assert (result.plan.risks, result.plan.compensation_at_risk_fen) == ((), 0)


def test_stock_already_sold_is_not_planned_again(runtime: Runtime) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    for n in range(4):
        place_order(PlaceOrder(shop_id, f"k{n}", (LineRequest(sku_id, 1),)), runtime.uow())
    result = plan_live(burst(shop_id, sku_id), runtime.uow(readonly=True))
    assert result.input.spot_quantity == 6
    assert result.plan.spot_sold_out_minute == 5
    # the four paid spot lines are the shop's window before the session
    assert result.plan.share_before == ShareCount(4, 4)
    assert result.plan.share_after == ShareCount(10, 30)


def test_the_commands_figures_replace_what_the_database_knows(runtime: Runtime) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    result = plan_live(
        burst(
            shop_id,
            sku_id,
            spot_quantity=30,
            spot_lines=90,
            paid_lines=100,
            batches=(BatchIn(5, date(2026, 11, 29)),),
        ),
        runtime.uow(readonly=True),
    )
    plan = result.plan
    assert (plan.spot_lines, plan.presale_lines, plan.refused_buyers) == (30, 5, 5)
    assert plan.share_after == ShareCount(120, 135)
    assert plan.eligible_after


def test_a_plan_needs_no_sku_when_the_form_price_and_stock_are_given(runtime: Runtime) -> None:
    shop_id = open_shop(runtime)
    result = plan_live(
        burst(
            shop_id,
            None,
            sales_form=TIERED,
            price_fen=5_000,
            spot_quantity=10,
            batches=(BatchIn(20, date(2026, 11, 29)),),
            spot_lines=0,
            paid_lines=0,
        ),
        runtime.uow(readonly=True),
    )
    assert (result.plan.spot_lines, result.plan.presale_lines) == (10, 20)
    assert result.plan.spot_needed == 28  # 28 of 40 lines = 70 %


def test_a_plan_changes_no_stock(runtime: Runtime) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    before = stock.read_stock(shop_id, sku_id, runtime.uow(readonly=True))
    plan_live(burst(shop_id, sku_id, buyers=1_000), runtime.uow(readonly=True))
    assert stock.read_stock(shop_id, sku_id, runtime.uow(readonly=True)) == before


def test_another_shops_sku_is_not_found_and_a_missing_form_is_named(runtime: Runtime) -> None:
    owner = open_shop(runtime)
    sku_id = new_sku(runtime, owner)
    with pytest.raises(NotFoundError) as missing:
        plan_live(burst(open_shop(runtime), sku_id), runtime.uow(readonly=True))
    assert missing.value.field == "sku_id"
    with pytest.raises(InvalidValueError) as no_form:
        plan_live(burst(owner, None), runtime.uow(readonly=True))
    assert no_form.value.field == "sales_form"


def test_a_past_sessions_log_is_replayed_minute_by_minute(runtime: Runtime) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id, spot=3, presale=0)
    log = ((date_time("20:00:05"), 2), (date_time("20:00:40"), 2), (date_time("20:02:00"), 1))
    result = plan_live(PlanLive(shop_id, sku_id, order_log=log), runtime.uow(readonly=True))
    plan = result.plan
    assert [p.buyers for p in plan.series] == [2, 0, 1]
    assert (plan.spot_units, plan.refused_buyers, plan.spot_sold_out_minute) == (3, 1, 2)


def date_time(hms: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-20T{hms}+08:00")


# the plan against the live order path ----------------------------------------------------
SESSION_LOG = ((0, 1), (0, 1), (1, 1), (1, 2), (2, 3), (2, 5), (3, 4), (3, 1), (4, 7))


def test_a_plan_promises_what_placing_the_same_orders_gives(runtime: Runtime, clock: Clock) -> None:
    # Tiered SKU, 2 spot and 4 unbatched presale units; an earlier buyer of 3 took
    # presale units 1–3. Confirmed batches: 4 ready 27 Nov (units 5–8 → 28 Nov 23:59:59)
    # and 5 ready 29 Nov (9–13 → 30 Nov 23:59:59), plus 6 ready 1 Dec (14–19: beyond the
    # window). By hand, one order a line: minute 0 → spot, spot; 1 → unit 4 (unbatched:
    # window, 1 Dec), units 5–6 (28 Nov); 2 → units 7–9 (last in the 29 Nov batch:
    # 30 Nov), 5 units (last 14: beyond the window, refused); 3 → units 10–13 (30 Nov),
    # unit 14 refused; 4 → 7 units (past the tier: insufficient stock).
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id, spot=2, presale=4)
    place_order(PlaceOrder(shop_id, "before", (LineRequest(sku_id, 3),)), runtime.uow())
    factory = capacity.create_supplier(shop_id, "宁波工厂", "merchant", runtime.uow())
    made = capacity_plans.propose(
        capacity_plans.ProposeCapacity(
            shop_id,
            sku_id,
            factory.id,
            ((4, date(2026, 11, 27)), (5, date(2026, 11, 29)), (6, date(2026, 12, 1))),
        ),
        runtime.uow(),
    )
    for batch in made:
        capacity_plans.act(
            capacity_plans.BatchCommand(shop_id, batch.id, BatchAction.CONFIRMED), runtime.uow()
        )
    start = clock.now
    log = tuple((start + timedelta(minutes=m), q) for m, q in SESSION_LOG)
    result = plan_live(
        PlanLive(shop_id, sku_id, order_log=log, slip_days=1), runtime.uow(readonly=True)
    )
    plan = result.plan
    planned = {(p.tier, p.ship_by_date): (p.lines, p.units) for p in plan.promises}
    assert planned == {
        (Tier.SPOT, date(2026, 11, 28)): (2, 2),
        (Tier.PRESALE, date(2026, 11, 28)): (1, 2),
        (Tier.PRESALE, date(2026, 11, 30)): (2, 7),
        (Tier.PRESALE, date(2026, 12, 1)): (1, 1),
    }
    assert dict(plan.refusals) == {RefusalReason.BEYOND_WINDOW: 2, RefusalReason.SOLD_OUT: 1}
    assert [(r.batch_id, r.promised_before, r.lines, r.late_lines) for r in plan.risks] == [
        (made[0].id, 0, 1, 1),
        (made[1].id, 0, 2, 2),
        (made[2].id, 0, 0, 0),
    ]

    # now place the same orders, each at its minute, through the live order path
    placed: Counter[tuple[Tier, date]] = Counter()
    units: Counter[tuple[Tier, date]] = Counter()
    refused: Counter[RefusalReason] = Counter()
    zone = result.zone
    for n, (minute, quantity) in enumerate(SESSION_LOG):
        clock.now = start.astimezone(UTC) + timedelta(minutes=minute)
        try:
            order = place_order(
                PlaceOrder(shop_id, f"live-{n}", (LineRequest(sku_id, quantity),)), runtime.uow()
            ).order
        except (
            CapacityBeyondWindowError,
            CapacityExhaustedError,
            PresaleEndedError,
            InsufficientStockError,
        ) as exc:
            refused[_reason(exc)] += 1
            continue
        (line,) = order.lines
        key = (line.tier, line.ship_by.astimezone(zone).date())
        placed[key] += 1
        units[key] += line.quantity
    assert {k: (placed[k], units[k]) for k in placed} == planned
    assert refused == Counter(dict(plan.refusals))


def _reason(exc: Exception) -> RefusalReason:
    if isinstance(exc, CapacityBeyondWindowError):
        return RefusalReason.BEYOND_WINDOW
    if isinstance(exc, CapacityExhaustedError):
        return RefusalReason.CAPACITY_EXHAUSTED
    if isinstance(exc, PresaleEndedError):
        return RefusalReason.PRESALE_ENDED
    return RefusalReason.SOLD_OUT


# the CLI -----------------------------------------------------------------------------------
@pytest.fixture()
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(cli_support, "runtime_factory", lambda: runtime)
    monkeypatch.setenv("COLUMNS", "160")
    return CliRunner()


def test_tierstock_plan_prints_sell_out_promises_share_and_risk(
    runtime: Runtime, cli: CliRunner
) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    result = cli.invoke(
        cli_plan.app,
        [
            "--shop",
            str(shop_id),
            "--sku",
            str(sku_id),
            "--buyers",
            "40",
            "--minutes",
            "40",
            "--batch",
            "10@2026-11-27",
            "--batch",
            "10@2026-11-29",
            "--slip-days",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sold out minute 9 (10:09)" in result.output
    assert "10 buyers, 10 units (sold_out 10)" in result.output
    # each batch's 10 lines, promised its ETA + 1 day, ship 3 days late: unshipped,
    # 20 × ¥29.70 (the old model gave the 28 Nov batch slack: ¥297.00)
    assert "¥594.00 at risk" in result.output
    assert "2026-11-30" in result.output


def test_tierstock_plan_replays_an_order_log_file(
    runtime: Runtime, cli: CliRunner, tmp_path: Path
) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id, spot=1, presale=0)
    log = tmp_path / "last-session.csv"
    log.write_text(
        "支付时间,数量\n2026-11-20 20:00:00,1\n2026-11-20 20:01:00,1\n", encoding="utf-8"
    )
    result = cli.invoke(
        cli_plan.app, ["--shop", str(shop_id), "--sku", str(sku_id), "--order-log", str(log)]
    )
    assert result.exit_code == 0, result.output
    assert "1 buyers, 1 units" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "ten@2026-12-01"], "--batch: 'ten@2026-12-01' is not QTY@YYYY-MM-DD"),
        (["--sku", "999999999"], "no SKU 999999999"),
        (["--quantity", "1000:1"], "quantity must be 1 to 999"),
    ],
)
def test_tierstock_plan_refuses_bad_input_in_one_line(
    runtime: Runtime, cli: CliRunner, args: list[str], message: str
) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    base = ["--shop", str(shop_id), "--buyers", "10"]
    if "--sku" not in args:
        base += ["--sku", str(sku_id)]
    result = cli.invoke(cli_plan.app, base + args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
