"""Issue 14, on SQLite and PostgreSQL with a clock moved by hand: compensation is a claim
(owed → claimed / agreed → paid, or waived) and exposure counts only what is unsettled;
shipment times cannot be back-dated to escape it; the carrier's pickup (揽收) judges a
line; GET /orders/{id} shows each line's shipment, outcome and compensation.

Kuaishou pack: spot 48 h, grace 24 h, back-dating at most 2 h; price ¥29.90 →
late ¥5.00 (10 % = ¥2.99, the ¥5 floor), unshipped ¥8.97 (30 %).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tierstock.domain.compensation import (
    CompensationSettledError,
    CompensationState,
    CompensationTransitionError,
)
from tierstock.domain.errors import InvalidValueError, NotFoundError
from tierstock.domain.fulfilment import (
    BackdatedShipmentError,
    PickupAlreadyRecordedError,
    ShippedBeforeJudgementError,
)
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
from tierstock.services import audit, catalogue, placing, promises, shops
from tierstock.services.promises import ChangeCompensation, change_compensation
from tierstock.services.shipping import (
    RecordPickup,
    ShipLine,
    order_fulfilment,
    record_pickup,
    ship_line,
)

PRICE = 2_990
LATE, UNSHIPPED = 500, 897
SPOT_48H = SalesFormSpec(SalesForm.SPOT, 48)


def _shop(runtime, name="claims"):
    created = shops.create_shop(shops.CreateShop(name), runtime.uow())
    shop_id = created.shop.id
    product = catalogue.create_product(catalogue.CreateProduct(shop_id, "mug"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(shop_id, product.id, "MUG", PRICE, SPOT_48H, spot_stock=50),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop_id, product.id, True), runtime.uow())
    return shop_id, sku.id, created.api_key


def _order(runtime, shop_id, sku_id, key, lines=1):
    cmd = placing.PlaceOrder(shop_id, key, tuple(LineRequest(sku_id, 1) for _ in range(lines)))
    return placing.place_order(cmd, runtime.uow()).order.id


def _scan(runtime, shop_id):
    return promises.scan_promises(promises.ScanPromises(shop_id), runtime.uow).recorded


def _change(runtime, shop_id, order_id, action, note="", amount=None, actor="ops"):
    cmd = ChangeCompensation(shop_id, order_id, 1, action, actor, note, amount)
    return change_compensation(cmd, runtime.uow())


def _ship(runtime, shop_id, order_id, **kw):
    return ship_line(ShipLine(shop_id, order_id, 1, "SF", f"SF{order_id}", **kw), runtime.uow())


def _trail(runtime, shop_id, action):
    entries = audit.audit_trail(shop_id, runtime.uow(readonly=True), include_stock=False)
    return [e for e in entries if e.action == action]


# --- the claim's life and the exposure -------------------------------------------------


def test_a_record_is_owed_until_claimed_and_exposure_counts_only_what_is_unsettled(runtime, clock):
    t0 = clock.now
    shop_id, sku_id, _ = _shop(runtime)
    a, b, c = (_order(runtime, shop_id, sku_id, f"o{i}") for i in range(3))
    clock.now = t0 + timedelta(hours=73)  # all three unshipped past the grace period
    assert sum(_scan(runtime, shop_id).values()) == 3

    risk = promises.risk_report(shop_id, runtime.uow(readonly=True))
    assert risk.outstanding_fen == 3 * UNSHIPPED
    assert risk.by_state[CompensationState.OWED].records == 3

    claimed = _change(runtime, shop_id, a, "claim", "buyer asked in chat")
    assert (claimed.state, claimed.outstanding_fen) == (CompensationState.CLAIMED, UNSHIPPED)
    paid = _change(runtime, shop_id, a, "pay")
    assert (paid.state, paid.settled_fen, paid.outstanding_fen) == ("paid", UNSHIPPED, 0)
    with pytest.raises(CompensationSettledError):
        _change(runtime, shop_id, a, "waive", "too late")

    with pytest.raises(InvalidValueError, match="between"):
        _change(runtime, shop_id, b, "agree", "buyer wants more", UNSHIPPED + 1)
    with pytest.raises(InvalidValueError, match="note"):
        _change(runtime, shop_id, b, "agree", "", 500)
    agreed = _change(runtime, shop_id, b, "agree", "¥5 coupon, buyer agreed by chat", 500)
    assert (agreed.state, agreed.agreed_fen, agreed.agreed_by) == ("agreed", 500, "ops")
    with pytest.raises(CompensationTransitionError):
        _change(runtime, shop_id, b, "claim")

    with pytest.raises(InvalidValueError, match="note"):
        _change(runtime, shop_id, c, "waive")
    waived = _change(runtime, shop_id, c, "waive", "buyer said no need")
    assert waived.outstanding_fen == 0

    risk = promises.risk_report(shop_id, runtime.uow(readonly=True))
    assert risk.outstanding_fen == 500  # only the agreed amount is still to pay
    assert {s: t.records for s, t in risk.by_state.items()} == {
        CompensationState.PAID: 1,
        CompensationState.AGREED: 1,
        CompensationState.WAIVED: 1,
    }
    assert risk.recorded  # the history of what was recorded stays
    settled = _change(runtime, shop_id, b, "pay", "paid by coupon")
    assert (settled.settled_fen, settled.outstanding_fen) == (500, 0)
    assert promises.risk_report(shop_id, runtime.uow(readonly=True)).outstanding_fen == 0

    moves = [
        (e.detail["from"], e.detail["to"]) for e in _trail(runtime, shop_id, "compensation.paid")
    ]
    assert sorted(moves) == [("agreed", "paid"), ("claimed", "paid")]
    assert _trail(runtime, shop_id, "compensation.agreed")[0].reason.startswith("¥5 coupon")
    listed = promises.list_compensations(
        shop_id, runtime.uow(readonly=True), states=(CompensationState.PAID,)
    )
    assert [r.order_id for r in listed] == [a, b]


def test_a_line_without_a_record_has_nothing_to_claim(runtime):
    shop_id, sku_id, _ = _shop(runtime)
    order_id = _order(runtime, shop_id, sku_id, "fresh")
    with pytest.raises(NotFoundError, match="no compensation"):
        _change(runtime, shop_id, order_id, "claim")
    with pytest.raises(InvalidValueError, match="action"):
        _change(runtime, shop_id, order_id, "forgive")


def test_the_board_shows_a_recorded_line_as_its_record_not_a_fresh_debt(runtime, clock):
    t0 = clock.now
    shop_id, sku_id, _ = _shop(runtime)
    lapsed = _order(runtime, shop_id, sku_id, "lapsed")
    clock.now = t0 + timedelta(hours=48 + 12)
    fresh = _order(runtime, shop_id, sku_id, "fresh")
    clock.now = t0 + timedelta(hours=73)
    board = promises.promise_board(shop_id, runtime.uow(readonly=True))
    [before, _] = board.lines
    assert before.record is None and before.new_cost.now_fen == UNSHIPPED  # not yet scanned

    _scan(runtime, shop_id)
    _change(runtime, shop_id, lapsed, "claim")
    first, second = promises.promise_board(shop_id, runtime.uow(readonly=True)).lines
    assert first.line.order_id == lapsed and first.record is not None
    assert (first.record.state, first.record.amount_fen) == ("claimed", UNSHIPPED)
    assert (first.new_cost.now_fen, first.new_cost.next_fen) == (0, None)
    assert first.exposure.now_fen == UNSHIPPED  # what the rule says, for the record
    assert second.line.order_id == fresh and second.record is None


# --- back-dating ------------------------------------------------------------------------


def test_a_shipment_back_dated_past_the_bound_is_refused(runtime, clock):
    """The issue's case: shipped two days late, dated one hour after payment."""
    t0 = clock.now
    shop_id, sku_id, _ = _shop(runtime)
    order_id = _order(runtime, shop_id, sku_id, "late")
    clock.now = t0 + timedelta(hours=48 + 48)
    with pytest.raises(BackdatedShipmentError) as refused:
        _ship(runtime, shop_id, order_id, shipped_at=t0 + timedelta(hours=1))
    assert refused.value.code == "shipment_backdated" and refused.value.field == "shipped_at"
    assert "2 h" in refused.value.message
    with pytest.raises(BackdatedShipmentError):  # nor through the carrier's pickup
        _ship(runtime, shop_id, order_id, picked_up_at=t0 + timedelta(hours=1))
    with runtime.uow(readonly=True) as uow:
        assert uow.shipments.of_order(shop_id, order_id) == {}  # nothing was recorded


def test_a_back_dated_shipment_within_the_bound_is_flagged_with_what_it_changed(runtime, clock):
    t0 = clock.now
    shop_id, sku_id, _ = _shop(runtime)
    a = _order(runtime, shop_id, sku_id, "a")
    b = _order(runtime, shop_id, sku_id, "b")
    clock.now = t0 + timedelta(hours=49)  # an hour past the deadline
    on_time = _ship(runtime, shop_id, a, shipped_at=t0 + timedelta(hours=47, minutes=30))
    assert on_time.outcome == "on_time"
    assert _ship(runtime, shop_id, b).outcome == "late"  # dated now: not flagged
    [flag] = _trail(runtime, shop_id, "shipment.backdated")
    assert flag.detail["order_id"] == a and flag.detail["backdated_minutes"] == 90
    assert flag.detail["outcome_if_dated_when_recorded"] == "late"
    assert flag.detail["changes_outcome"] is True


def test_a_shipment_cannot_be_dated_before_the_scan_judged_the_line(runtime, clock):
    t0 = clock.now
    shop_id, sku_id, _ = _shop(runtime)
    order_id = _order(runtime, shop_id, sku_id, "judged")
    clock.now = t0 + timedelta(hours=72, minutes=30)
    assert _scan(runtime, shop_id)["unshipped"] == 1  # judged unshipped at 72.5 h
    clock.now = t0 + timedelta(hours=73, minutes=30)
    with pytest.raises(ShippedBeforeJudgementError) as refused:  # within the 2 h bound
        _ship(runtime, shop_id, order_id, shipped_at=t0 + timedelta(hours=72))
    assert refused.value.kind == "conflict"
    shipped = _ship(runtime, shop_id, order_id, shipped_at=t0 + timedelta(hours=73))
    assert shipped.outcome == "unshipped"
    assert sum(_scan(runtime, shop_id).values()) == 0  # still recorded once


# --- the carrier's pickup ---------------------------------------------------------------


def test_the_carrier_pickup_decides_lateness(runtime, clock):
    t0 = clock.now
    shop_id, sku_id, _ = _shop(runtime)
    given = _order(runtime, shop_id, sku_id, "given")
    later = _order(runtime, shop_id, sku_id, "later")
    clock.now = t0 + timedelta(hours=47)
    with pytest.raises(InvalidValueError, match="before it was shipped"):
        _ship(
            runtime,
            shop_id,
            given,
            shipped_at=t0 + timedelta(hours=46, minutes=30),
            picked_up_at=t0 + timedelta(hours=46),
        )
    assert _ship(runtime, shop_id, later).outcome == "on_time"  # marked shipped in time…
    clock.now = t0 + timedelta(hours=50)
    judged = _ship(  # …and this one too, but the carrier only came after the deadline
        runtime,
        shop_id,
        given,
        shipped_at=t0 + timedelta(hours=48),
        picked_up_at=t0 + timedelta(hours=49),
    )
    assert (judged.outcome, judged.picked_up_at) == ("late", t0 + timedelta(hours=49))

    corrected = record_pickup(
        RecordPickup(shop_id, later, 1, t0 + timedelta(hours=49, minutes=30), "warehouse"),
        runtime.uow(),
    )
    assert corrected.outcome == "late"
    with pytest.raises(PickupAlreadyRecordedError):
        record_pickup(RecordPickup(shop_id, later, 1, clock.now), runtime.uow())
    [flag] = _trail(runtime, shop_id, "shipment.corrected")
    assert (flag.detail["previous_outcome"], flag.detail["outcome"]) == ("on_time", "late")
    assert _scan(runtime, shop_id)["late"] == 2


def test_a_pickup_that_makes_a_late_line_unshipped_turns_its_unsettled_record(runtime, clock):
    t0 = clock.now
    shop_id, sku_id, _ = _shop(runtime)
    open_one = _order(runtime, shop_id, sku_id, "open")
    paid_one = _order(runtime, shop_id, sku_id, "paid")
    clock.now = t0 + timedelta(hours=49)
    _ship(runtime, shop_id, open_one)
    _ship(runtime, shop_id, paid_one)
    assert _scan(runtime, shop_id)["late"] == 2
    _change(runtime, shop_id, paid_one, "pay")
    clock.now = t0 + timedelta(hours=80)
    after_grace = t0 + timedelta(hours=73)
    record_pickup(RecordPickup(shop_id, open_one, 1, after_grace), runtime.uow())
    with pytest.raises(CompensationSettledError):
        record_pickup(RecordPickup(shop_id, paid_one, 1, after_grace), runtime.uow())
    view = order_fulfilment(shop_id, open_one, runtime.uow(readonly=True)).lines[1]
    assert view.outcome == "unshipped"
    assert [(r.kind, r.amount_fen) for r in view.compensations] == [("unshipped", UNSHIPPED)]
    assert sum(_scan(runtime, shop_id).values()) == 0


# --- the order base ----------------------------------------------------------------------


def test_under_the_order_base_an_order_owes_once_on_its_paid_value(runtime, clock, monkeypatch):
    from tierstock.policies import load_pack
    from tierstock.services import catalogue as catalogue_service
    from tierstock.services import promises as promise_service

    kuaishou = load_pack("kuaishou")
    by_order = replace(kuaishou, compensation=replace(kuaishou.compensation, base="order"))
    monkeypatch.setattr(catalogue_service, "load_pack", lambda name: by_order)
    monkeypatch.setattr(promise_service, "load_pack", lambda name: by_order)
    t0 = clock.now
    shop_id, sku_id, _ = _shop(runtime, "order base")
    _order(runtime, shop_id, sku_id, "two", lines=2)
    clock.now = t0 + timedelta(hours=73)
    assert _scan(runtime, shop_id)["unshipped"] == 1  # one record for the order
    assert sum(_scan(runtime, shop_id).values()) == 0
    [record] = promise_service.list_compensations(shop_id, runtime.uow(readonly=True))
    assert (record.base, record.paid_fen) == ("order", 2 * PRICE)
    assert record.amount_fen == 1794  # 30 % of ¥59.80
    board = promise_service.promise_board(shop_id, runtime.uow(readonly=True))
    assert [v.new_cost.now_fen for v in board.lines] == [0, 0]  # the order already owes it


# --- through the API ---------------------------------------------------------------------


def _client(runtime):
    from fastapi.testclient import TestClient

    from tierstock.api.main import create_app

    return TestClient(create_app(runtime))


def test_the_api_refuses_back_dating_and_shows_shipments_outcomes_and_claims(runtime, clock):
    t0 = clock.now
    shop_id, sku_id, key = _shop(runtime, "api")
    lapsed = _order(runtime, shop_id, sku_id, "lapsed")
    late = _order(runtime, shop_id, sku_id, "late", lines=2)
    api, h = _client(runtime), {"X-API-Key": key}
    clock.now = t0 + timedelta(hours=50)
    r = api.post(
        f"/orders/{late}/lines/1/shipment",
        headers=h,
        json={
            "carrier": "SF",
            "tracking_no": "SF1",
            "shipped_at": (t0 + timedelta(hours=1)).isoformat(),
        },
    )
    assert (r.status_code, r.json()["error"]) == (422, "shipment_backdated"), r.text
    r = api.post(
        f"/orders/{late}/lines/1/shipment",
        headers=h,
        json={
            "carrier": "SF",
            "tracking_no": "SF1",
            "shipped_at": (t0 + timedelta(hours=49)).isoformat(),
            "picked_up_at": (t0 + timedelta(hours=49, minutes=30)).isoformat(),
        },
    )
    assert (r.status_code, r.json()["outcome"]) == (201, "late"), r.text
    clock.now = t0 + timedelta(hours=73)
    assert api.post("/promises/scan", headers=h).json()["unshipped_recorded"] == 2

    board = api.get("/promises", headers=h).json()["data"]
    first = next(p for p in board if p["order_id"] == lapsed)
    assert first["compensation_now_fen"] == 0
    assert first["compensation_record"]["state"] == "owed"
    assert first["compensation_record"]["amount_fen"] == UNSHIPPED

    r = api.post(f"/orders/{lapsed}/lines/1/compensation/claim", headers=h, json={})
    assert (r.status_code, r.json()["state"]) == (200, "claimed"), r.text
    r = api.post(
        f"/orders/{lapsed}/lines/1/compensation/agree",
        headers=h,
        json={"amount_fen": UNSHIPPED + 1, "note": "more"},
    )
    assert (r.status_code, r.json()["field"]) == (422, "amount_fen")
    r = api.post(f"/orders/{lapsed}/lines/1/compensation/pay", headers=h, json={"note": "红包"})
    assert (r.status_code, r.json()["settled_fen"]) == (200, UNSHIPPED)
    r = api.post(f"/orders/{lapsed}/lines/1/compensation/pay", headers=h, json={})
    assert (r.status_code, r.json()["error"]) == (409, "compensation_settled")
    risk = api.get("/promises/risk", headers=h).json()
    assert risk["outstanding_yuan"] == "13.97"  # ¥5.00 late + ¥8.97 unshipped, owed
    assert risk["by_state"]["paid"]["outstanding_yuan"] == "0.00"
    paid = api.get("/promises/compensations", headers=h, params={"state": "paid"}).json()
    assert [c["order_id"] for c in paid["data"]] == [lapsed]

    order = api.get(f"/orders/{late}", headers=h).json()
    shipped, open_line = order["lines"]
    assert shipped["status"] == "shipped" and shipped["outcome"] == "late"
    assert shipped["shipment"]["carrier"] == "SF" and shipped["shipment"]["picked_up_at"]
    assert [(c["kind"], c["state"]) for c in shipped["compensation"]] == [("late", "owed")]
    assert (open_line["status"], open_line["outcome"], open_line["shipment"]) == (
        "paid",
        "unshipped",
        None,
    )
    assert open_line["compensation"][0]["kind"] == "unshipped"


def test_the_cli_ships_with_times_lists_and_moves_claims(runtime, clock, monkeypatch):
    from typer.testing import CliRunner

    from tierstock.cli import promises as promises_cli
    from tierstock.cli import shipments as shipments_cli
    from tierstock.cli import support as cli_support

    monkeypatch.setattr(cli_support, "runtime_factory", lambda: runtime)
    t0 = clock.now
    shop_id, sku_id, _ = _shop(runtime, "cli")
    lapsed = _order(runtime, shop_id, sku_id, "lapsed")
    shipped = _order(runtime, shop_id, sku_id, "shipped")
    cli, shop = CliRunner(), ["--shop", str(shop_id)]
    clock.now = t0 + timedelta(hours=50)
    back = (t0 + timedelta(hours=1)).isoformat()
    refused = cli.invoke(
        shipments_cli.app, ["line", str(shipped), "1", "SF", "SF1", *shop, "--shipped-at", back]
    )
    assert refused.exit_code == 1 and "2 h" in refused.output
    local = (t0 + timedelta(hours=49)).astimezone(cli_support.display_zone())
    ok = cli.invoke(
        shipments_cli.app,
        ["line", str(shipped), "1", "SF", "SF1", *shop, "--shipped-at", f"{local:%Y-%m-%dT%H:%M}"],
    )
    assert ok.exit_code == 0 and "shipped: late" in ok.output, ok.output
    picked = cli.invoke(
        shipments_cli.app, ["pickup", str(shipped), "1", clock.now.isoformat(), *shop]
    )
    assert picked.exit_code == 0 and "late" in picked.output, picked.output

    clock.now = t0 + timedelta(hours=73)
    cli.invoke(promises_cli.app, ["scan", *shop])
    board = cli.invoke(promises_cli.app, shop)
    assert f"order {lapsed} line 1: unshipped compensation owed" in board.output, board.output
    assert cli.invoke(promises_cli.app, ["claim", str(lapsed), "1", *shop]).exit_code == 0
    too_much = cli.invoke(promises_cli.app, ["agree", str(lapsed), "1", "900", "more", *shop])
    assert too_much.exit_code == 1 and "between" in too_much.output
    agreed = cli.invoke(promises_cli.app, ["agree", str(lapsed), "1", "500", "coupon", *shop])
    assert "agreed; still to pay ¥5.00" in agreed.output, agreed.output
    listed = cli.invoke(promises_cli.app, ["claims", *shop, "--state", "agreed"])
    assert listed.exit_code == 0 and "coupon" in listed.output, listed.output
    risk = cli.invoke(promises_cli.app, ["risk", *shop])
    assert "still to pay: ¥10.00" in risk.output, risk.output  # ¥5 agreed + ¥5 late owed
