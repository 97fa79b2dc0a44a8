"""Compensation as a claim and what an order shows, over HTTP against `tierstock serve`
(issue 14). The server runs on the real clock, so the broken promise here is a line
cancelled as unshippable (recorded at once); time travel is in
tests/integration/test_compensation_claims.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.e2e.conftest import ShopClient, assert_error


def _two_line_order(shop: ShopClient) -> dict[str, Any]:
    a = shop.listed_sku(spot=5, presale=0, price_fen=2_990)
    b = shop.listed_sku(spot=5, presale=0, product_name="马克杯")
    r = shop.order([(a["id"], 1), (b["id"], 1)])
    assert r.status_code == 201, r.text
    order: dict[str, Any] = r.json()
    return order


def _line(shop: ShopClient, order_id: int, line_no: int) -> dict[str, Any]:
    r = shop.get(f"/orders/{order_id}")
    assert r.status_code == 200, r.text
    line: dict[str, Any] = r.json()["lines"][line_no - 1]
    return line


def test_an_order_shows_each_lines_shipment_outcome_and_compensation(shop: ShopClient) -> None:
    order = _two_line_order(shop)
    oid = order["id"]
    fresh = _line(shop, oid, 1)
    assert (fresh["status"], fresh["outcome"], fresh["shipment"]) == ("paid", "open", None)

    gone = shop.post(f"/orders/{oid}/lines/1/unshippable", json={"reason": "工厂断货"})
    assert gone.status_code == 200, gone.text
    paid_at = datetime.fromisoformat(order["paid_at"])
    r = shop.post(
        f"/orders/{oid}/lines/2/shipment",
        json={
            "carrier": "顺丰",
            "tracking_no": "SF900",
            "shipped_at": (paid_at + timedelta(milliseconds=2)).isoformat(),
            "picked_up_at": (paid_at + timedelta(milliseconds=1)).isoformat(),
        },
    )
    assert_error(r, 422, error="invalid_value", field="picked_up_at")  # before the shipment
    r = shop.post(
        f"/orders/{oid}/lines/2/shipment", json={"carrier": "顺丰", "tracking_no": "SF900"}
    )
    assert r.status_code == 201, r.text

    cancelled, shipped = (_line(shop, oid, n) for n in (1, 2))
    assert (cancelled["status"], cancelled["outcome"]) == ("cancelled", "unshipped")
    [owed] = cancelled["compensation"]
    assert (owed["kind"], owed["state"], owed["amount_fen"]) == ("unshipped", "owed", 897)
    assert owed["outstanding_yuan"] == "8.97" and owed["base"] == "line"
    assert (shipped["status"], shipped["outcome"], shipped["compensation"]) == (
        "shipped",
        "on_time",
        [],
    )
    assert shipped["shipment"]["carrier"] == "顺丰"
    assert shipped["shipment"]["tracking_no"] == "SF900"
    assert shipped["shipment"]["picked_up_at"] is None

    r = shop.post(
        f"/orders/{oid}/lines/2/shipment/pickup",
        json={"picked_up_at": shipped["shipment"]["shipped_at"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "on_time" and r.json()["picked_up_at"]
    again = shop.post(
        f"/orders/{oid}/lines/2/shipment/pickup",
        json={"picked_up_at": shipped["shipment"]["shipped_at"]},
    )
    assert_error(again, 409, error="pickup_already_recorded")
    assert _line(shop, oid, 2)["shipment"]["picked_up_at"]
    trail = shop.get("/audit").json()
    assert "shipment.corrected" in {e["action"] for e in trail}


def test_a_claim_moves_through_its_states_and_final_ones_stay(shop: ShopClient) -> None:
    oid = _two_line_order(shop)["id"]
    base = f"/orders/{oid}/lines/1/compensation"
    assert_error(shop.post(f"{base}/claim", json={}), 404, field="line_no")
    assert (
        shop.post(f"/orders/{oid}/lines/1/unshippable", json={"reason": "断货"}).status_code == 200
    )

    r = shop.post(f"{base}/claim", json={"note": "买家在聊天里申请赔付"})
    assert (r.status_code, r.json()["state"]) == (200, "claimed"), r.text
    assert_error(
        shop.post(f"{base}/agree", json={"amount_fen": 898, "note": "多给"}),
        422,
        field="amount_fen",
    )
    assert_error(shop.post(f"{base}/agree", json={"amount_fen": "500", "note": "x"}), 422)
    assert_error(shop.post(f"{base}/waive", json={}), 422, field="note")
    r = shop.post(f"{base}/agree", json={"amount_fen": 500, "note": "买家同意 ¥5 优惠券"})
    assert r.status_code == 200, r.text
    agreed = r.json()
    assert (agreed["state"], agreed["agreed_fen"], agreed["outstanding_fen"]) == (
        "agreed",
        500,
        500,
    )
    assert agreed["agreed_by"].startswith(f"shop{shop.id}:owner")
    risk = shop.get("/promises/risk").json()
    assert risk["outstanding_yuan"] == "5.00"
    assert risk["by_state"]["agreed"]["records"] == 1

    r = shop.post(f"{base}/pay", json={"note": "优惠券已发"})
    assert (r.status_code, r.json()["settled_fen"]) == (200, 500)
    assert_error(shop.post(f"{base}/pay", json={}), 409, error="compensation_settled")
    assert_error(shop.post(f"{base}/waive", json={"note": "x"}), 409, error="compensation_settled")
    assert shop.get("/promises/risk").json()["outstanding_yuan"] == "0.00"

    listed = shop.get("/promises/compensations", params={"state": ["paid"]}).json()
    assert [(c["order_id"], c["settled_fen"]) for c in listed["data"]] == [(oid, 500)]
    assert shop.get("/promises/compensations", params={"state": "owed"}).json()["count"] == 0
    actions = {e["action"] for e in shop.get("/audit").json()}
    assert {"compensation.claimed", "compensation.agreed", "compensation.paid"} <= actions
