"""The live-burst planner through its service and its CLI, on SQLite and PostgreSQL.

The clock stands at 10:00 Shanghai on 26 Nov 2026 (the ``clock`` fixture). A tiered SKU
with 10 spot and 20 presale units meets 40 one-unit buyers, one a minute.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tierstock import cli_plan
from tierstock.domain.eligibility import ShareCount
from tierstock.domain.errors import InvalidValueError, NotFoundError
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import catalogue, shops, stock
from tierstock.services.orders import PlaceOrder, place_order
from tierstock.services.planner import BatchIn, PlanLive, plan_live
from tierstock.services.runtime import Runtime

TIERED = SalesFormSpec(SalesForm.TIERED, spot_window_hours=48, presale_days=5)


def open_shop(runtime: Runtime) -> int:
    return shops.create_shop(shops.CreateShop("直播间"), runtime.uow()).shop.id


def new_sku(runtime: Runtime, shop_id: int, *, spot: int = 10, presale: int = 20) -> int:
    product = catalogue.create_product(catalogue.CreateProduct(shop_id, "连衣裙"),
                                       runtime.uow())
    sku = catalogue.add_sku(catalogue.AddSku(shop_id, product.id, "DRESS-M", 9_900, TIERED,
                                             spot_stock=spot, presale_stock=presale),
                            runtime.uow())
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
        (Tier.SPOT, date(2026, 11, 28)), (Tier.PRESALE, date(2026, 12, 1))]


def test_without_batches_presale_is_one_batch_at_the_edge_of_the_window(
        runtime: Runtime) -> None:
    # ready when the first presale line falls due: a one-day slip makes every presale
    # line late (within the 24 h grace): 20 × 10 % of ¥99 = 20 × ¥9.90.
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    result = plan_live(burst(shop_id, sku_id, slip_days=1), runtime.uow(readonly=True))
    (batch,) = result.input.batches
    assert batch.quantity == 20
    assert result.plan.risks[0].late_lines == 20
    assert result.plan.compensation_at_risk_fen == 20 * 990


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
    result = plan_live(burst(shop_id, sku_id, spot_quantity=30, spot_lines=90, paid_lines=100,
                             batches=(BatchIn(5, date(2026, 11, 30)),)),
                       runtime.uow(readonly=True))
    plan = result.plan
    assert (plan.spot_lines, plan.presale_lines, plan.refused_buyers) == (30, 5, 5)
    assert plan.share_after == ShareCount(120, 135)
    assert plan.eligible_after


def test_a_plan_needs_no_sku_when_the_form_price_and_stock_are_given(runtime: Runtime) -> None:
    shop_id = open_shop(runtime)
    result = plan_live(burst(shop_id, None, sales_form=TIERED, price_fen=5_000,
                             spot_quantity=10, batches=(BatchIn(20, date(2026, 12, 1)),),
                             spot_lines=0, paid_lines=0),
                       runtime.uow(readonly=True))
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


# the CLI -----------------------------------------------------------------------------------
@pytest.fixture()
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(cli_plan, "runtime_factory", lambda: runtime)
    monkeypatch.setenv("COLUMNS", "160")
    return CliRunner()


def test_tierstock_plan_prints_sell_out_promises_share_and_risk(
        runtime: Runtime, cli: CliRunner) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    result = cli.invoke(cli_plan.plan_app, [
        "--shop", str(shop_id), "--sku", str(sku_id), "--buyers", "40", "--minutes", "40",
        "--batch", "10@2026-11-28", "--batch", "10@2026-12-01", "--slip-days", "3"])
    assert result.exit_code == 0, result.output
    assert "sold out minute 9 (10:09)" in result.output
    assert "10 buyers, 10 units" in result.output
    assert "¥297.00 at risk" in result.output  # batch 1's 10 lines unshipped × ¥29.70
    assert "2026-12-01" in result.output


def test_tierstock_plan_replays_an_order_log_file(runtime: Runtime, cli: CliRunner,
                                                  tmp_path: Path) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id, spot=1, presale=0)
    log = tmp_path / "last-session.csv"
    log.write_text("支付时间,数量\n2026-11-20 20:00:00,1\n2026-11-20 20:01:00,1\n",
                   encoding="utf-8")
    result = cli.invoke(cli_plan.plan_app, ["--shop", str(shop_id), "--sku", str(sku_id),
                                            "--order-log", str(log)])
    assert result.exit_code == 0, result.output
    assert "1 buyers, 1 units" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--batch", "ten@2026-12-01"], "batch 'ten@2026-12-01'"),
    (["--sku", "999999999"], "no SKU 999999999"),
    (["--quantity", "1000:1"], "quantity must be 1 to 999"),
])
def test_tierstock_plan_refuses_bad_input_in_one_line(
        runtime: Runtime, cli: CliRunner, args: list[str], message: str) -> None:
    shop_id = open_shop(runtime)
    sku_id = new_sku(runtime, shop_id)
    base = ["--shop", str(shop_id), "--buyers", "10"]
    if "--sku" not in args:
        base += ["--sku", str(sku_id)]
    result = cli.invoke(cli_plan.plan_app, base + args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
