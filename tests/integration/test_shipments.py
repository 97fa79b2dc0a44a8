"""Shipments, delays and eligibility refusals on SQLite and PostgreSQL (issue 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tierstock.domain.delays import DelayNotAllowedError, DelayTooLateError
from tierstock.domain.eligibility import ScorePoint, TieredNotEligibleError
from tierstock.domain.errors import InvalidValueError, NotFoundError
from tierstock.domain.fulfilment import AlreadyShippedError, LineCancelledError
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
from tierstock.services import catalogue, placing, shops
from tierstock.services.delays import RequestDelay, line_delays, request_delay
from tierstock.services.eligibility import RecordScores, eligibility_report, record_scores
from tierstock.services.shipping import (
    CancelUnshippable,
    ShipLine,
    cancel_unshippable,
    ship_line,
)

SPOT_48H = SalesFormSpec(SalesForm.SPOT, 48)


def _shop_with_order(runtime, name="shop", form=SPOT_48H):
    shop = shops.create_shop(shops.CreateShop(name), runtime.uow()).shop
    product = catalogue.create_product(catalogue.CreateProduct(shop.id, "mug"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(shop.id, product.id, "MUG", 2_990, form, spot_stock=10, presale_stock=10),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop.id, product.id, True), runtime.uow())
    order = placing.place_order(
        placing.PlaceOrder(shop.id, f"k-{name}", (LineRequest(sku.id, 1),)), runtime.uow()
    ).order
    return shop.id, order.id, product.id, sku.id


def _ship(runtime, shop_id, order_id, **kw):
    return ship_line(ShipLine(shop_id, order_id, 1, "SF Express", "SF100", **kw), runtime.uow())


def test_a_line_ships_once_and_the_second_attempt_names_the_first(runtime):
    shop_id, order_id, *_ = _shop_with_order(runtime)
    shipment = _ship(runtime, shop_id, order_id)
    assert (shipment.carrier, shipment.outcome) == ("SF Express", "on_time")
    with pytest.raises(AlreadyShippedError, match="SF100") as exc:
        _ship(runtime, shop_id, order_id)
    assert exc.value.code == "already_shipped" and exc.value.kind == "conflict"


def test_a_cancelled_line_cannot_ship(runtime):
    shop_id, order_id, *_ = _shop_with_order(runtime)
    placing.cancel_order(placing.CancelOrder(shop_id, order_id), runtime.uow())
    with pytest.raises(LineCancelledError, match="cancelled"):
        _ship(runtime, shop_id, order_id)


def test_another_shops_line_is_not_found(runtime):
    _, order_id, *_ = _shop_with_order(runtime, "mine")
    other_id, *_ = _shop_with_order(runtime, "theirs")
    with pytest.raises(NotFoundError) as exc:
        _ship(runtime, other_id, order_id)
    assert exc.value.field == "line_no"


def test_a_shipment_may_not_be_dated_in_the_future_or_be_blank(runtime, clock):
    shop_id, order_id, *_ = _shop_with_order(runtime)
    with pytest.raises(InvalidValueError):
        _ship(runtime, shop_id, order_id, shipped_at=clock.now + timedelta(hours=1))
    with pytest.raises(InvalidValueError):
        ship_line(ShipLine(shop_id, order_id, 1, " ", "x"), runtime.uow())


def test_an_unshippable_line_returns_its_unit_and_cannot_be_cancelled_twice(runtime):
    shop_id, order_id, _, sku_id = _shop_with_order(runtime)
    done = cancel_unshippable(
        CancelUnshippable(shop_id, order_id, 1, "supplier failed"), runtime.uow()
    )
    assert done.compensation_fen == 897  # 30 % of ¥29.90 = ¥8.97 (above the ¥5 floor)
    with runtime.uow(readonly=True) as uow:
        assert uow.stock.tiers([sku_id])[sku_id]["spot"].sold == 0
    with pytest.raises(LineCancelledError):
        cancel_unshippable(CancelUnshippable(shop_id, order_id, 1, "again"), runtime.uow())


def test_only_the_three_delay_tools_move_a_deadline(runtime, clock):
    shop_id, order_id, *_ = _shop_with_order(runtime)
    later = clock.now + timedelta(days=4)

    def delay(kind, reason="force_majeure", consent=False, when=later):
        return request_delay(
            RequestDelay(shop_id, order_id, 1, kind, reason, when, consent, "ops"), runtime.uow()
        )

    with pytest.raises(DelayNotAllowedError, match="delay tools"):
        delay("because")
    with pytest.raises(DelayNotAllowedError, match="accepted only for"):
        delay("delayed", reason="we are busy")
    with pytest.raises(DelayNotAllowedError, match="consent"):
        delay("negotiated", reason="buyer agreed")
    first = delay("delayed")
    second = delay("appointment", "buyer picks Saturday", True, later + timedelta(days=1))
    assert second.previous_ship_by == first.new_ship_by
    with pytest.raises(DelayNotAllowedError, match="later than"):
        delay("negotiated", "buyer agreed", True, later)
    seen = line_delays(shop_id, order_id, 1, runtime.uow(readonly=True))
    assert seen.effective_ship_by == later + timedelta(days=1)
    assert [d.kind for d in seen.delays] == ["delayed", "appointment"]
    assert seen.delays[0].actor == "ops" and seen.delays[0].reason == "force_majeure"
    clock.now = later + timedelta(days=2)
    with pytest.raises(DelayTooLateError):
        delay("negotiated", "too late", True, later + timedelta(days=3))


def _pay(runtime, shop_id, sku_id, n, prefix):
    for i in range(n):
        placing.place_order(
            placing.PlaceOrder(shop_id, f"{prefix}{i}", (LineRequest(sku_id, 1),)), runtime.uow()
        )


def test_an_ineligible_shop_cannot_go_tiered_but_its_tiered_skus_keep_selling(runtime, clock):
    tiered = SalesFormSpec(SalesForm.TIERED, 48, 5)
    shop_id, _, product_id, sku_id = _shop_with_order(runtime, "tiered", tiered)
    presale_only = catalogue.add_sku(
        catalogue.AddSku(
            shop_id,
            product_id,
            "PRE",
            1_000,
            SalesFormSpec(SalesForm.PRESALE, presale_days=10),
            presale_stock=100,
        ),
        runtime.uow(),
    )
    _pay(runtime, shop_id, presale_only.id, 30, "pre")  # spot share falls to 1/31
    record_scores(RecordScores(shop_id, (ScorePoint(clock.now.date(), 450),)), runtime.uow())
    with pytest.raises(TieredNotEligibleError) as exc:
        catalogue.add_sku(
            catalogue.AddSku(shop_id, product_id, "NEW", 1_000, tiered), runtime.uow()
        )
    assert "4.50" in exc.value.message and "3.22 %" in exc.value.message
    _pay(runtime, shop_id, sku_id, 1, "still")  # the existing tiered SKU keeps selling
    report = eligibility_report(shop_id, runtime.uow(readonly=True))
    assert not report.verdict.eligible
    assert [s.code for s in report.non_compliant] == ["MUG"]
    assert report.pulling[0].presale_lines == 30
    assert report.scores[-1].score_centi == 450
    assert len(report.share_trend) == report.rules.trend_points


def test_a_shop_without_a_score_and_few_orders_may_use_tiered(runtime):
    shop_id, _, product_id, _ = _shop_with_order(runtime, "new")
    sku = catalogue.add_sku(
        catalogue.AddSku(shop_id, product_id, "T", 1_000, SalesFormSpec(SalesForm.TIERED, 24, 3)),
        runtime.uow(),
    )
    assert sku.sales_form.form is SalesForm.TIERED


def _client(runtime):
    from fastapi.testclient import TestClient

    from tierstock.api.main import create_app
    from tierstock.api.routers import eligibility as eligibility_routes
    from tierstock.api.routers import promises as promise_routes
    from tierstock.api.routers import shipments as shipment_routes

    app = create_app(runtime)
    for module in (shipment_routes, promise_routes, eligibility_routes):
        app.include_router(module.router)
    return TestClient(app)


def test_the_api_ships_delays_lists_and_judges_with_clear_errors(runtime, clock):
    created = shops.create_shop(shops.CreateShop("api shop"), runtime.uow())
    shop_id, key = created.shop.id, created.api_key
    product = catalogue.create_product(catalogue.CreateProduct(shop_id, "cup"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(shop_id, product.id, "CUP", 100_00, SPOT_48H, spot_stock=5), runtime.uow()
    )
    catalogue.set_listed(catalogue.SetListed(shop_id, product.id, True), runtime.uow())
    placed = [
        placing.place_order(
            placing.PlaceOrder(shop_id, f"a{i}", (LineRequest(sku.id, 1),)), runtime.uow()
        ).order.id
        for i in range(3)
    ]
    api = _client(runtime)
    h = {"X-API-Key": key}
    later = (clock.now + timedelta(hours=60)).isoformat()
    r = api.post(
        f"/orders/{placed[0]}/lines/1/delays",
        headers=h,
        json={
            "kind": "negotiated",
            "reason": "buyer agreed",
            "new_ship_by": later,
            "buyer_consent": True,
        },
    )
    assert r.status_code == 201, r.text
    r = api.post(
        f"/orders/{placed[0]}/lines/1/delays",
        headers=h,
        json={"kind": "whenever", "reason": "x", "new_ship_by": later},
    )
    assert (r.status_code, r.json()["error"]) == (422, "delay_not_allowed")
    r = api.post(
        f"/orders/{placed[1]}/lines/1/shipment",
        headers=h,
        json={"carrier": "SF", "tracking_no": "SF1"},
    )
    assert (r.status_code, r.json()["outcome"]) == (201, "on_time")
    r = api.post(
        f"/orders/{placed[1]}/lines/1/shipment",
        headers=h,
        json={"carrier": "SF", "tracking_no": "SF2"},
    )
    assert (r.status_code, r.json()["error"]) == (409, "already_shipped")
    r = api.post(
        "/orders/999999/lines/1/shipment", headers=h, json={"carrier": "SF", "tracking_no": "SF3"}
    )
    assert r.status_code == 404
    clock.now += timedelta(hours=50)  # lines 0 (delayed to 60 h) and 2 (48 h) open
    board = api.get("/promises", headers=h).json()
    assert [(p["order_id"], p["urgency"]) for p in board["data"]] == [
        (placed[2], "overdue"),
        (placed[0], "due_soon"),
    ]
    assert board["data"][0]["compensation_now_yuan"] == "10.00"
    assert api.post("/promises/scan", headers=h).json()["late_recorded"] == 0
    risk = api.get("/promises/risk", headers=h).json()
    assert risk["overdue_open_lines"] == 1 and risk["overdue_exposure_yuan"] == "10.00"
    r = api.post(
        f"/shops/{shop_id}/store-scores",
        headers=h,
        json={"data": [{"scored_on": "2026-11-20", "score": "4.70"}]},
    )
    assert r.json() == {"recorded": 1}
    got = api.get(f"/shops/{shop_id}/eligibility", headers=h).json()
    assert (got["eligible"], got["store_score"], got["min_store_score"]) == (True, "4.70", "4.60")
    assert api.get(f"/shops/{shop_id + 1000}/eligibility", headers=h).status_code == 404


def test_the_cli_lists_scans_and_judges(runtime, clock, monkeypatch):
    from typer.testing import CliRunner

    from tierstock.cli import eligibility as eligibility_cli
    from tierstock.cli import promises as promises_cli
    from tierstock.cli import shipments as shipments_cli
    from tierstock.cli import support as cli_support

    shop_id, order_id, *_ = _shop_with_order(runtime, "cli")
    monkeypatch.setattr(cli_support, "runtime_factory", lambda: runtime)
    cli = CliRunner()
    clock.now += timedelta(hours=80)
    board = cli.invoke(promises_cli.app, ["--shop", str(shop_id)])
    assert board.exit_code == 0, board.output
    assert "lapsed" in board.output
    first = cli.invoke(promises_cli.app, ["scan", "--shop", str(shop_id)])
    again = cli.invoke(promises_cli.app, ["scan", "--shop", str(shop_id)])
    assert "1 unshipped" in first.output and "0 unshipped" in again.output
    risk = cli.invoke(promises_cli.app, ["risk", "--shop", str(shop_id)])
    assert risk.exit_code == 0 and "1 of 1 lines" in risk.output
    shown = cli.invoke(eligibility_cli.app, ["--shop", str(shop_id)])
    assert shown.exit_code == 0 and "eligible" in shown.output
    bad = cli.invoke(
        shipments_cli.app,
        ["line", str(order_id), "1", "SF", "X", "--shop", str(shop_id + 999)],
    )
    assert bad.exit_code == 1


def test_store_scores_import_from_csv_and_a_bad_row_changes_nothing(runtime, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tierstock.cli import eligibility as eligibility_cli
    from tierstock.cli import support as cli_support

    shop_id, *_ = _shop_with_order(runtime, "csv")
    monkeypatch.setattr(cli_support, "runtime_factory", lambda: runtime)
    good = tmp_path / "scores.csv"
    good.write_text("date,score\n2026-11-01,4.80\n2026-11-08,4.75\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("2026-11-15,4.70\n2026-11-16,7.00\n", encoding="utf-8")
    cli = CliRunner()
    ok = cli.invoke(eligibility_cli.app, ["import", str(good), "--shop", str(shop_id)])
    assert ok.exit_code == 0 and "2 store scores imported" in ok.output
    refused = cli.invoke(eligibility_cli.app, ["import", str(bad), "--shop", str(shop_id)])
    assert refused.exit_code == 1
    report = eligibility_report(shop_id, runtime.uow(readonly=True))
    assert [p.score_centi for p in report.scores] == [480, 475]
