"""Issue 3 scenario, on SQLite and PostgreSQL, with a clock the test moves by hand.

A tiered SKU sells out its spot tier in a burst; lines ship on time, late, one is
cancelled as unshippable, one gets a negotiated delay and ships within it, one is never
shipped. The scan, run twice at each step, records every compensation exactly once and
the totals equal the hand computation at the bottom of this docstring.

Price ¥120.00 (12 000 fen); Kuaishou pack: late 10 % (¥5–¥30), unshipped 30 % (¥5–¥200),
grace 24 h. Spot window 48 h, presale tier 5 days.
  S2 spot, shipped 50 h after payment (2 h late)          late       ¥12.00
  S3 spot, cancelled as unshippable                       unshipped  ¥36.00
  S5 spot, never shipped, scan at 73 h (> 48 h + 24 h)    unshipped  ¥36.00
  P2 presale, shipped at 130 h (deadline 120 h)           late       ¥12.00
  B  presale, 3 units (¥360), shipped at 121 h            late  ¥36 → ¥30.00 (cap)
  S1, S4 (negotiated to 96 h, shipped at 90 h), P1: nothing.
  Totals: late 3 lines ¥54.00, unshipped 2 lines ¥72.00.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tierstock.domain.compensation import CompensationKind
from tierstock.domain.fulfilment import Urgency
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
from tierstock.services import catalogue, placing, shops
from tierstock.services.delays import RequestDelay, request_delay
from tierstock.services.promises import (
    ScanPromises,
    promise_board,
    risk_report,
    scan_promises,
)
from tierstock.services.shipping import (
    CancelUnshippable,
    ShipLine,
    cancel_unshippable,
    ship_line,
)

PRICE = 12_000


def _tiered_shop(runtime):
    shop = shops.create_shop(shops.CreateShop("burst shop"), runtime.uow()).shop
    product = catalogue.create_product(
        catalogue.CreateProduct(shop.id, "down jacket"), runtime.uow()
    )
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop.id,
            product.id,
            "JKT-RED-M",
            PRICE,
            SalesFormSpec(SalesForm.TIERED, 48, 5),
            spot_stock=5,
            presale_stock=10,
        ),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop.id, product.id, True), runtime.uow())
    return shop.id, sku.id


def _burst(runtime, shop_id, sku_id, buyers):
    def pay(i):
        cmd = placing.PlaceOrder(shop_id, f"burst-{i}", (LineRequest(sku_id, 1),), f"b{i}")
        return placing.place_order(cmd, runtime.uow()).order

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(pay, range(buyers)))


def _at(clock, t0, hours):
    clock.now = t0 + timedelta(hours=hours)


def _scan_twice(runtime, shop_id):
    first = scan_promises(ScanPromises(shop_id, chunk_lines=4), runtime.uow)
    second = scan_promises(ScanPromises(shop_id, chunk_lines=4), runtime.uow)
    assert sum(second.recorded.values()) == 0
    return first.recorded


def test_every_broken_promise_is_compensated_exactly_once(runtime, clock):
    t0 = clock.now
    shop_id, sku_id = _tiered_shop(runtime)
    burst = _burst(runtime, shop_id, sku_id, buyers=8)
    spot = sorted((o for o in burst if o.lines[0].tier == "spot"), key=lambda o: o.id)
    presale = sorted((o for o in burst if o.lines[0].tier == "presale"), key=lambda o: o.id)
    assert (len(spot), len(presale)) == (5, 3)  # spot sold out in the burst
    big = placing.place_order(
        placing.PlaceOrder(shop_id, "big", (LineRequest(sku_id, 3),)), runtime.uow()
    ).order
    assert big.lines[0].tier == "presale"
    s1, s2, s3, s4, s5 = (o.id for o in spot)
    p1, p2, p3 = (o.id for o in presale)

    def ship(order_id, hours):
        _at(clock, t0, hours)
        return ship_line(ShipLine(shop_id, order_id, 1, "SF", f"SF{order_id}"), runtime.uow())

    assert ship(s1, 10).outcome == "on_time"
    _at(clock, t0, 20)
    gone = cancel_unshippable(
        CancelUnshippable(shop_id, s3, 1, "damaged in the warehouse"), runtime.uow()
    )
    assert gone.compensation_fen == 3600
    _at(clock, t0, 30)
    request_delay(
        RequestDelay(
            shop_id,
            s4,
            1,
            "negotiated",
            "buyer agreed by chat",
            t0 + timedelta(hours=96),
            buyer_consent=True,
        ),
        runtime.uow(),
    )
    assert ship(s2, 50).outcome == "late"

    _at(clock, t0, 73)
    first = _scan_twice(runtime, shop_id)
    assert first == {CompensationKind.LATE: 1, CompensationKind.UNSHIPPED: 1}  # S2, S5

    assert ship(s4, 90).outcome == "on_time"  # within the negotiated deadline
    assert ship(p1, 100).outcome == "on_time"
    assert ship(big.id, 121).outcome == "late"
    assert ship(p2, 130).outcome == "late"
    _at(clock, t0, 131)
    second = _scan_twice(runtime, shop_id)
    assert second == {CompensationKind.LATE: 2, CompensationKind.UNSHIPPED: 0}  # P2, B

    with runtime.uow(readonly=True) as uow:
        totals = uow.promises.totals(shop_id)
        records = uow.promises.compensations_of(shop_id)
    assert totals == {CompensationKind.LATE: (3, 5400), CompensationKind.UNSHIPPED: (2, 7200)}
    by_order = {(r.order_id, r.kind): r.amount_fen for r in records}
    assert by_order == {
        (s2, "late"): 1200,
        (s3, "unshipped"): 3600,
        (s5, "unshipped"): 3600,
        (p2, "late"): 1200,
        (big.id, "late"): 3000,
    }

    board = promise_board(shop_id, runtime.uow(readonly=True))
    lapsed, open_line = board.lines  # S5 (still paid, compensation recorded), then P3
    assert (lapsed.line.order_id, lapsed.exposure.urgency) == (s5, Urgency.LAPSED)
    assert (lapsed.exposure.now_fen, lapsed.exposure.next_fen) == (3600, None)
    assert open_line.line.order_id == p3
    assert open_line.exposure.urgency is Urgency.OVERDUE
    assert (open_line.exposure.now_fen, open_line.exposure.next_fen) == (1200, 3600)

    risk = risk_report(shop_id, runtime.uow(readonly=True))
    assert (risk.due_lines, risk.failed_lines, risk.overdue_open_lines) == (9, 5, 1)
    assert risk.exposure.overdue_lines == 1 and risk.exposure.overdue_fen == 1200


def test_a_line_left_unshipped_past_the_grace_period_is_charged_once(runtime, clock):
    t0 = clock.now
    shop_id, sku_id = _tiered_shop(runtime)
    [order] = _burst(runtime, shop_id, sku_id, buyers=1)
    _at(clock, t0, 48 + 24)  # exactly at the end of the grace period: not yet
    assert sum(scan_promises(ScanPromises(shop_id), runtime.uow).recorded.values()) == 0
    _at(clock, t0, 48 + 24 + 1)
    assert _scan_twice(runtime, shop_id)[CompensationKind.UNSHIPPED] == 1
    # shipping it afterwards (after the grace period) owes nothing more
    ship_line(ShipLine(shop_id, order.id, 1, "YTO", "YT1"), runtime.uow())
    assert sum(_scan_twice(runtime, shop_id).values()) == 0


BOUNDARY_PRICES = (
    1,
    1_667,
    1_669,
    4_999,
    5_000,
    5_005,
    29_999,
    30_000,
    30_001,
    66_667,
    66_668,
    10**8,
)


def test_the_scan_computes_each_amount_exactly_as_the_domain_rule(runtime, clock):
    from tierstock.domain.compensation import owed_fen
    from tierstock.policies import load_pack

    t0 = clock.now
    shop = shops.create_shop(shops.CreateShop("boundaries"), runtime.uow()).shop
    product = catalogue.create_product(catalogue.CreateProduct(shop.id, "p"), runtime.uow())
    placed = []
    for price in BOUNDARY_PRICES:
        sku = catalogue.add_sku(
            catalogue.AddSku(
                shop.id,
                product.id,
                f"P{price}",
                price,
                SalesFormSpec(SalesForm.SPOT, 24),
                spot_stock=2,
            ),
            runtime.uow(),
        )
        catalogue.set_listed(catalogue.SetListed(shop.id, product.id, True), runtime.uow())
        for kind in ("late", "lapse"):
            order = placing.place_order(
                placing.PlaceOrder(shop.id, f"{price}-{kind}", (LineRequest(sku.id, 1),)),
                runtime.uow(),
            ).order
            placed.append((order.id, price, kind))
    _at(clock, t0, 25)
    for order_id, _, kind in placed:
        if kind == "late":
            ship_line(ShipLine(shop.id, order_id, 1, "SF", "x"), runtime.uow())
    _at(clock, t0, 49)
    _scan_twice(runtime, shop.id)
    comp = load_pack("kuaishou").compensation
    with runtime.uow(readonly=True) as uow:
        got = {r.order_id: (r.kind, r.amount_fen) for r in uow.promises.compensations_of(shop.id)}
    for order_id, price, kind in placed:
        expected = CompensationKind.LATE if kind == "late" else CompensationKind.UNSHIPPED
        assert got[order_id] == (expected, owed_fen(expected, price, comp)), price


def test_racing_scans_record_each_compensation_once(runtime, clock):
    t0 = clock.now
    shop_id, sku_id = _tiered_shop(runtime)
    _burst(runtime, shop_id, sku_id, buyers=12)
    _at(clock, t0, 24 * 8)  # every line, spot and presale, is past its grace period
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(
            pool.map(
                lambda _: scan_promises(ScanPromises(shop_id, chunk_lines=3), runtime.uow), range(4)
            )
        )
    assert sum(r.recorded[CompensationKind.UNSHIPPED] for r in reports) == 12
    with runtime.uow(readonly=True) as uow:
        assert uow.promises.totals(shop_id)[CompensationKind.UNSHIPPED] == (12, 12 * 3600)
