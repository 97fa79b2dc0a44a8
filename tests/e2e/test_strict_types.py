"""E2E over HTTP: request bodies are strictly typed. ``true``, ``"1"`` and ``1.0`` are not
quantities (422 naming the field, nothing allocated), while values JSON can only spell
as strings — dates, times, enum members, decimals — are still accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import ShopClient, assert_error


@pytest.mark.parametrize("quantity", [True, "1", 1.0], ids=["bool", "string", "float"])
def test_an_order_quantity_must_be_a_json_integer(shop: ShopClient, quantity: Any) -> None:
    sku = shop.listed_sku(spot=5, presale=5)
    r = shop.order([{"sku_id": sku["id"], "quantity": quantity}])
    body = assert_error(r, 422, error="validation_error", field="lines[0].quantity")
    assert "quantity" in body["message"]
    assert shop.available(sku["id"]) == {"spot": 5, "presale": 5}


def test_an_order_sku_id_must_be_a_json_integer(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=5)
    r = shop.order([{"sku_id": str(sku["id"]), "quantity": 1}])
    assert_error(r, 422, error="validation_error", field="lines[0].sku_id")
    assert shop.available(sku["id"]) == {"spot": 5, "presale": 5}


def test_an_integer_quantity_is_still_accepted(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=5)
    r = shop.order([{"sku_id": sku["id"], "quantity": 2}])
    assert r.status_code == 201, r.text
    assert shop.available(sku["id"]) == {"spot": 3, "presale": 5}


def test_an_enum_member_is_accepted_as_its_json_string(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=0, presale=0)
    r = shop.post(f"/skus/{sku['id']}/stock/receipts", json={"tier": "presale", "quantity": 3})
    assert r.status_code == 200, r.text
    assert r.json()["tier"] == "presale"


def test_a_date_and_a_decimal_are_accepted_as_json_spells_them(shop: ShopClient) -> None:
    day = (date.today() - timedelta(days=1)).isoformat()
    r = shop.post(
        f"/shops/{shop.id}/store-scores", json={"data": [{"scored_on": day, "score": 4.72}]}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"recorded": 1}


def test_a_time_is_accepted_as_an_iso_string(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=0)
    placed = shop.order([(sku["id"], 1)])
    assert placed.status_code == 201, placed.text
    shipped_at = datetime.now(UTC).isoformat()
    r = shop.post(
        f"/orders/{placed.json()['id']}/lines/1/shipment",
        json={"carrier": "顺丰", "tracking_no": "SF100", "shipped_at": shipped_at},
    )
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["shipped_at"]) == datetime.fromisoformat(shipped_at)
