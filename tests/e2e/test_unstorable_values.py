"""Values the database cannot store are refused as bad input, on every endpoint."""

from __future__ import annotations

from tests.e2e.conftest import ShopClient, assert_error


def test_nul_in_a_query_parameter_is_refused_never_a_server_error(shop: ShopClient) -> None:
    """Found by schemathesis: GET /events?topic=%00 reached PostgreSQL and was a 500.
    (SQLite can store NUL, so there the filter simply matches nothing.)"""
    r = shop.get("/events", params={"topic": "\x00"})
    if r.status_code == 200:
        assert r.json() == []
    else:
        assert_error(r, 422, error="invalid_value", field="input")


def test_nul_in_json_text_without_its_own_schema_rule_changes_nothing(shop: ShopClient) -> None:
    r = shop.post("/counts", json={"note": "盘点\x00"})
    if r.status_code != 201:  # PostgreSQL cannot store it: refused, nothing opened
        assert_error(r, 422, error="invalid_value", field="input")
        assert shop.get("/counts").json() == []


def test_percent_signs_and_backslashes_in_json_text_are_kept_as_written(shop: ShopClient) -> None:
    name = r"满100%00减 C:\u0000 风格"  # literal characters, not a NUL
    r = shop.post("/products", json={"name": name})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name
