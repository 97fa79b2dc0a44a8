"""Supplier capacity (产能确认) on SQLite and PostgreSQL (issue 4, docs/rules.md §3, §5).

The clock starts at 26 Nov 2026 10:00 in Shanghai. Tiered SKUs promise 48 h spot and a
5-day presale window (to 1 Dec 10:00); handling is 1 day, so a batch ready on 28 Nov
promises "ships by 29 Nov 23:59:59" and one ready on 1 Dec is beyond the window.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tierstock.cli import capacity as cli_capacity
from tierstock.cli import support as cli_support
from tierstock.domain.capacity import (
    BatchAction,
    BatchStateError,
    BatchStatus,
    CapacityBeyondWindowError,
    RiskReason,
)
from tierstock.domain.errors import InsufficientStockError, NotFoundError
from tierstock.domain.ledger import LedgerKind
from tierstock.domain.orders import LineRequest
from tierstock.domain.promises import BuyerPromise
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import capacity, capacity_plans, catalogue, keys, placing, shops, stock
from tierstock.services.placing.group_commit import allocate_batch
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger

SH = ZoneInfo("Asia/Shanghai")
TIERED = SalesFormSpec(SalesForm.TIERED, spot_window_hours=48, presale_days=5)
PRESALE = SalesFormSpec(SalesForm.PRESALE, presale_days=5)
NOV28, NOV29, DEC1 = date(2026, 11, 28), date(2026, 11, 29), date(2026, 12, 1)
PRICE = 19_900


def _end(day: date, plus_days: int = 1) -> datetime:
    """The ship-by a batch ready on ``day`` gives (end of day + handling), in UTC."""
    local = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SH)
    return (local + timedelta(days=plus_days)).astimezone(UTC)


def _setup(runtime, form=TIERED, *, spot=0, presale=0):
    shop = shops.create_shop(shops.CreateShop("产能小店"), runtime.uow()).shop
    product = catalogue.create_product(catalogue.CreateProduct(shop.id, "羽绒服"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop.id,
            product.id,
            f"DOWN-{uuid.uuid4().hex[:6]}",
            PRICE,
            form,
            spot_stock=spot,
            presale_stock=presale,
        ),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop.id, product.id, True), runtime.uow())
    factory = capacity.create_supplier(shop.id, "宁波工厂", "merchant", runtime.uow())
    return shop.id, sku.id, factory.id


def _plan(runtime, shop_id, sku_id, supplier_id, *plans: tuple[int, date]):
    return [
        b.id
        for b in capacity_plans.propose(
            capacity_plans.ProposeCapacity(shop_id, sku_id, supplier_id, tuple(plans), "merchant"),
            runtime.uow(),
        )
    ]


def _act(runtime, shop_id, batch_id, action, supplier_id=None, **kw):
    return capacity_plans.act(
        capacity_plans.BatchCommand(shop_id, batch_id, action, supplier_id, actor="factory", **kw),
        runtime.uow(),
    )


def _confirm(runtime, shop_id, *batch_ids, supplier_id=None):
    for batch_id in batch_ids:
        _act(runtime, shop_id, batch_id, BatchAction.CONFIRMED, supplier_id)


def _buy(runtime, shop_id, sku_id, quantity=1):
    placed = placing.place_order(
        placing.PlaceOrder(shop_id, uuid.uuid4().hex, (LineRequest(sku_id, quantity),)),
        runtime.uow(),
    )
    return placed.order.lines[0], placed.order.id


def _tiers(runtime, shop_id, sku_id):
    return stock.read_stock(shop_id, sku_id, runtime.uow(readonly=True))


def _ledger_ok(runtime, shop_id):
    checked, bad = verify_ledger(runtime.uow(readonly=True), shop_id)
    assert checked and bad == [], [b.describe() for b in bad]


def test_a_tiered_skus_presale_tier_stops_at_confirmed_capacity(runtime) -> None:
    shop_id, sku_id, factory = _setup(runtime, spot=1)
    a, b = _plan(runtime, shop_id, sku_id, factory, (2, NOV28), (3, NOV29))
    assert _buy(runtime, shop_id, sku_id)[0].tier is Tier.SPOT
    with pytest.raises(InsufficientStockError):  # proposed is not sellable
        _buy(runtime, shop_id, sku_id)
    _confirm(runtime, shop_id, a)
    assert _tiers(runtime, shop_id, sku_id)[Tier.PRESALE].quantity == 2
    _buy(runtime, shop_id, sku_id, 2)
    with pytest.raises(InsufficientStockError):
        _buy(runtime, shop_id, sku_id)
    _confirm(runtime, shop_id, b)
    _buy(runtime, shop_id, sku_id, 3)
    with pytest.raises(InsufficientStockError):
        _buy(runtime, shop_id, sku_id)
    presale = _tiers(runtime, shop_id, sku_id)[Tier.PRESALE]
    assert (presale.quantity, presale.sold) == (5, 5)
    _ledger_ok(runtime, shop_id)


def test_each_presale_line_ships_by_the_batch_covering_its_last_unit(runtime, clock) -> None:
    shop_id, sku_id, factory = _setup(runtime, presale=1)  # 1 unbatched unit of its own
    a, b = _plan(runtime, shop_id, sku_id, factory, (2, NOV28), (3, NOV29))
    _confirm(runtime, shop_id, b, a)
    window = clock.now + timedelta(days=5)
    own, _ = _buy(runtime, shop_id, sku_id)  # unit 1: the merchant's own, as before
    first, _ = _buy(runtime, shop_id, sku_id)  # unit 2: batch a
    straddling, _ = _buy(runtime, shop_id, sku_id, 2)  # units 3-4: last one in batch b
    assert [ln.tier for ln in (own, first, straddling)] == [Tier.PRESALE] * 3
    assert own.ship_by == window
    assert first.ship_by == _end(NOV28)
    assert straddling.ship_by == _end(NOV29)
    view = capacity.sku_capacity(shop_id, sku_id, runtime.uow(readonly=True))
    assert view.unbatched == 1
    assert [(v.batch.id, v.promised) for v in view.batches] == [(a, 2), (b, 1)]
    assert [r.action for r in view.batches[0].history] == [
        BatchAction.PROPOSED,
        BatchAction.CONFIRMED,
    ]


def test_the_group_commit_path_gives_the_same_batch_promises(runtime) -> None:
    shop_id, sku_id, factory = _setup(runtime)
    a, b = _plan(runtime, shop_id, sku_id, factory, (1, NOV28), (1, NOV29))
    _confirm(runtime, shop_id, a, b)
    cmds = [
        placing.PlaceOrder(shop_id, uuid.uuid4().hex, (LineRequest(sku_id, 1),)) for _ in range(3)
    ]
    t = runtime.clock()
    outcome = allocate_batch(cmds, [t, t, t], runtime.uow())
    assert [outcome.sales[i].line.ship_by for i in (0, 1)] == [_end(NOV28), _end(NOV29)]
    assert isinstance(outcome.refused[2], InsufficientStockError)
    _ledger_ok(runtime, shop_id)


def test_a_batch_beyond_the_window_refuses_the_line_and_allocates_nothing(runtime) -> None:
    shop_id, sku_id, factory = _setup(runtime, PRESALE)
    (late,) = _plan(runtime, shop_id, sku_id, factory, (5, DEC1 + timedelta(days=5)))
    _confirm(runtime, shop_id, late)
    with pytest.raises(CapacityBeyondWindowError) as refused:
        _buy(runtime, shop_id, sku_id)
    assert (refused.value.code, refused.value.field) == (
        "capacity_beyond_window",
        "lines[0].quantity",
    )
    t = runtime.clock()
    outcome = allocate_batch(
        [placing.PlaceOrder(shop_id, "k1", (LineRequest(sku_id, 1),))], [t], runtime.uow()
    )
    assert isinstance(outcome.refused[0], CapacityBeyondWindowError) and not outcome.sales
    presale = _tiers(runtime, shop_id, sku_id)[Tier.PRESALE]
    assert (presale.quantity, presale.sold) == (5, 0)
    with runtime.uow(readonly=True) as uow:
        assert uow.orders.lines_of_sku(sku_id) == []
    _ledger_ok(runtime, shop_id)


def test_a_supplier_cannot_touch_another_suppliers_plan(runtime) -> None:
    shop_id, sku_id, factory = _setup(runtime)
    rival = capacity.create_supplier(shop_id, "义乌工厂", "merchant", runtime.uow()).id
    (batch,) = _plan(runtime, shop_id, sku_id, factory, (5, NOV28))
    for action in (BatchAction.CONFIRMED, BatchAction.DECLINED):
        with pytest.raises(NotFoundError):
            _act(runtime, shop_id, batch, action, rival)
    with pytest.raises(NotFoundError):
        _act(runtime, shop_id, batch, BatchAction.REVISED, rival, quantity=1, ready_on=NOV28)
    assert capacity.supplier_batches(shop_id, rival, runtime.uow(readonly=True)) == []
    assert _tiers(runtime, shop_id, sku_id)[Tier.PRESALE].quantity == 0
    _confirm(runtime, shop_id, batch, supplier_id=factory)  # its own: fine
    with pytest.raises(BatchStateError):
        _confirm(runtime, shop_id, batch, supplier_id=factory)
    key = keys.create_key(
        keys.CreateKey(shop_id, "supplier", "factory", supplier_id=factory), runtime.uow()
    )
    assert shops.authenticate(key.api_key, runtime.uow(readonly=True)).supplier_id == factory


def test_a_revised_down_batch_flags_exactly_the_affected_lines(runtime) -> None:
    shop_id, sku_id, factory = _setup(runtime)
    a, b = _plan(runtime, shop_id, sku_id, factory, (3, NOV28), (3, NOV29))
    _confirm(runtime, shop_id, a, b)
    bought = [_buy(runtime, shop_id, sku_id) for _ in range(6)]  # units 1..6
    changed = _act(
        runtime,
        shop_id,
        a,
        BatchAction.REVISED,
        factory,
        quantity=1,
        ready_on=NOV28,
        note="布料短缺",
    )
    presale = _tiers(runtime, shop_id, sku_id)[Tier.PRESALE]
    assert (presale.quantity, presale.sold) == (6, 6)  # never below what is promised
    flagged = {(x.line.order_id, x.reason) for x in changed.at_risk}
    order_ids = [order_id for _, order_id in bought]
    # units 2-3 now fall in batch b (ready later than promised); 5-6 in nothing
    assert flagged == {
        (order_ids[1], RiskReason.LATER_BATCH),
        (order_ids[2], RiskReason.LATER_BATCH),
        (order_ids[4], RiskReason.UNCOVERED),
        (order_ids[5], RiskReason.UNCOVERED),
    }
    late_fen, unshipped_fen = 1_990, 5_970  # 10 % / 30 % of ¥199 (inside min and cap)
    assert sum(x.exposure_fen for x in changed.at_risk) == 2 * late_fen + 2 * unshipped_fen
    risk = capacity.capacity_risk(shop_id, sku_id, runtime.uow(readonly=True))
    assert risk.revised_down == (a,) and risk.late_batches == ()
    assert {x.line.order_id for x in risk.lines} == {order_ids[i] for i in (1, 2, 4, 5)}
    _ledger_ok(runtime, shop_id)


def test_revising_up_and_declining_change_presale_capacity_by_the_delta(runtime) -> None:
    shop_id, sku_id, factory = _setup(runtime, presale=2)
    a, b = _plan(runtime, shop_id, sku_id, factory, (3, NOV28), (4, NOV29))
    _confirm(runtime, shop_id, a, b)
    _act(runtime, shop_id, a, BatchAction.REVISED, factory, quantity=5, ready_on=NOV28)
    assert _tiers(runtime, shop_id, sku_id)[Tier.PRESALE].quantity == 2 + 5 + 4
    _buy(runtime, shop_id, sku_id, 3)
    declined = _act(runtime, shop_id, b, BatchAction.DECLINED, factory, note="停产")
    assert declined.batch.status is BatchStatus.DECLINED and declined.at_risk == ()
    presale = _tiers(runtime, shop_id, sku_id)[Tier.PRESALE]
    assert (presale.quantity, presale.sold) == (7, 3)
    with runtime.uow(readonly=True) as uow:
        kinds = [e.kind for e in uow.stock.ledger(shop_id, sku_id, offset=0, limit=100)]
    assert kinds.count(LedgerKind.CAPACITY) == 4  # confirm ×2, revise, decline
    _ledger_ok(runtime, shop_id)


def test_receiving_a_batch_moves_its_unpromised_remainder_to_spot(runtime) -> None:
    shop_id, sku_id, factory = _setup(runtime)
    a, b = _plan(runtime, shop_id, sku_id, factory, (3, NOV28), (3, NOV29))
    _confirm(runtime, shop_id, a, b)
    _buy(runtime, shop_id, sku_id, 3)
    last, _ = _buy(runtime, shop_id, sku_id)  # unit 4: one of b's three
    assert last.ship_by == _end(NOV29)
    done = _act(runtime, shop_id, b, BatchAction.RECEIVED, note="到货")
    assert (done.batch.status, done.moved_to_spot, done.batch.in_tier) == (
        BatchStatus.RECEIVED,
        2,
        1,
    )
    tiers = _tiers(runtime, shop_id, sku_id)
    assert (tiers[Tier.PRESALE].quantity, tiers[Tier.PRESALE].sold) == (4, 4)
    assert (tiers[Tier.SPOT].quantity, tiers[Tier.SPOT].sold) == (2, 0)
    line, _ = _buy(runtime, shop_id, sku_id)
    assert line.tier is Tier.SPOT  # the goods on hand sell as spot now
    with pytest.raises(BatchStateError):
        _act(runtime, shop_id, b, BatchAction.RECEIVED)
    _ledger_ok(runtime, shop_id)


def test_a_late_batch_puts_its_promises_at_risk_and_the_pace_says_when_capacity_ends(
    runtime, clock
) -> None:
    shop_id, sku_id, factory = _setup(runtime, PRESALE)
    (a,) = _plan(runtime, shop_id, sku_id, factory, (10, NOV28))
    _confirm(runtime, shop_id, a)
    ids = [_buy(runtime, shop_id, sku_id)[1] for _ in range(3)]
    risk = capacity.capacity_risk(shop_id, sku_id, runtime.uow(readonly=True), hours=6)
    assert risk.lines == () and risk.pace.units_sold == 3 and risk.pace.remaining == 7
    assert risk.pace.runs_out_at == clock.now + timedelta(hours=14)  # 7 units at 0.5/h
    (shared,) = capacity.supplier_batches(shop_id, factory, runtime.uow(readonly=True))
    assert shared.pace == risk.pace and shared.promised == 3  # the supplier sees the pace
    clock.now = datetime(2026, 11, 29, 12, 0, tzinfo=SH).astimezone(UTC)  # not received
    risk = capacity.capacity_risk(shop_id, sku_id, runtime.uow(readonly=True))
    assert risk.late_batches == (a,)
    assert [(x.line.order_id, x.reason) for x in risk.lines] == [
        (i, RiskReason.LATE_BATCH) for i in ids
    ]
    assert risk.exposure_fen == 3 * 1_990
    assert risk.pace.units_sold == 0 and risk.pace.runs_out_at is None


def test_a_spot_only_sku_takes_no_capacity_plan(runtime) -> None:
    shop_id, sku_id, factory = _setup(runtime, SalesFormSpec(SalesForm.SPOT, 48), spot=1)
    with pytest.raises(Exception, match="spot only"):
        _plan(runtime, shop_id, sku_id, factory, (5, NOV28))


def test_the_cli_plans_confirms_for_an_offline_supplier_receives_and_reports(
    runtime, monkeypatch
) -> None:
    monkeypatch.setattr(cli_support, "runtime_factory", lambda: runtime)
    shop_id, sku_id, _ = _setup(runtime, PRESALE)
    cli = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = cli.invoke(cli_capacity.app, [*args, "--shop", str(shop_id)])
        assert result.exit_code == code, result.output
        return result.output

    assert "supplier" in run("supplier", "杭州工厂")
    supplier = capacity.list_suppliers(shop_id, runtime.uow(readonly=True))[-1].id
    assert "杭州工厂" in run("suppliers")
    run(
        "propose", "--sku", str(sku_id), "--supplier", str(supplier), "4@2026-11-28", "2@2026-11-29"
    )
    run("propose", "--sku", str(sku_id), "--supplier", str(supplier), "4-2026-11-28", code=1)
    batches = [
        v.batch.id
        for v in capacity.sku_capacity(shop_id, sku_id, runtime.uow(readonly=True)).batches
    ]
    assert "confirmed" in run("confirm", str(batches[0]), "--note", "电话确认")
    run("confirm", str(batches[0]), code=1)  # already confirmed: one line, exit 1
    _buy(runtime, shop_id, sku_id, 3)
    revised = run("revise", str(batches[0]), "--quantity", "2", "--ready-on", "2026-11-28")
    assert "promises at risk" in revised and "uncovered" in revised
    assert "moved to spot" not in run("decline", str(batches[1]))
    assert "3 units, 3 promised, 0 left" in run("list", "--sku", str(sku_id))
    assert "compensation exposure" in run("risk", "--sku", str(sku_id))
    _ledger_ok(runtime, shop_id)


@pytest.mark.parametrize("batched", [False, True], ids=["one-per-txn", "group-commit"])
def test_a_burst_sells_each_confirmed_unit_once_with_its_batchs_promise(runtime, batched) -> None:
    shop_id, sku_id, factory = _setup(runtime, PRESALE)
    a, b = _plan(runtime, shop_id, sku_id, factory, (5, NOV28), (5, NOV29))
    _confirm(runtime, shop_id, a, b)
    burst = Runtime(runtime.engine, runtime.clock, batch_orders=batched)

    def buy(i: int) -> object:
        try:
            return burst.place_order(
                placing.PlaceOrder(shop_id, f"burst-{i}", (LineRequest(sku_id, 1),))
            )
        except InsufficientStockError as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(buy, range(16)))
    assert sum(isinstance(r, InsufficientStockError) for r in results) == 6
    with runtime.uow(readonly=True) as uow:
        lines = uow.orders.lines_of_sku(sku_id)
    assert sorted(ln.tier_sold_after for ln in lines) == list(range(1, 11))
    for ln in lines:
        assert ln.ship_by == _end(NOV28 if ln.tier_sold_after <= 5 else NOV29)
    _ledger_ok(runtime, shop_id)


def test_the_product_card_promises_the_next_unit_by_the_batch_that_would_cover_it(
    runtime,
) -> None:
    from tierstock.services.card import product_card

    shop_id, sku_id, factory = _setup(runtime)
    a, b = _plan(runtime, shop_id, sku_id, factory, (1, NOV28), (2, NOV29))
    _confirm(runtime, shop_id, a, b)
    with runtime.uow(readonly=True) as uow:
        product_id = uow.catalogue.get_sku(shop_id, sku_id).product_id

    def next_unit() -> BuyerPromise:
        return product_card(shop_id, product_id, runtime.uow(readonly=True)).skus[0].next_unit

    assert next_unit().ship_by == _end(NOV28)
    assert (
        next_unit().text_zh == f"{_end(NOV28).astimezone(SH).month}月"
        f"{_end(NOV28).astimezone(SH).day}日前发货"
    )
    _buy(runtime, shop_id, sku_id)
    assert next_unit().ship_by == _end(NOV29)
    _buy(runtime, shop_id, sku_id, 2)
    assert next_unit().text_en == "sold out"
