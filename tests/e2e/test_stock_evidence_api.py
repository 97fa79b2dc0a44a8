"""E2E over HTTP: spot stock rests on evidence — docs/rules.md §3.5 (seed case 1).

The seeds' cautionary merchant sets fake stock mid-live and keeps selling. Over the real
server: the operator's raise is refused (409 naming the field), the owner's goes through
only as an override with a reason, flagged in the ledger, the audit trail, the
``GET /stock/unevidenced`` report and the workbench overview (库存无依据上调) — marked as
made during the live session. A receipt with its supplier and delivery note is evidence
and is not flagged; a presale receipt on a spot-only SKU is refused, not hidden.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.e2e.conftest import ShopClient, assert_error
from tierstock.testing.server import free_port

SPOT_FORM = {"form": "spot", "spot_window_hours": 48}


def _key(shop: ShopClient, role: str) -> dict[str, str]:
    r = shop.post("/keys", json={"role": role, "label": f"{role} key"})
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["api_key"]}


def _go_live(shop: ShopClient, sku_id: int) -> None:
    """A Kuaishou store (at a loopback port nothing listens on) takes the live lock."""
    channel = shop.post(
        "/channels",
        json={
            "platform": "kuaishou",
            "name": f"快手直播间-{uuid.uuid4().hex[:4]}",
            "server_url": f"http://127.0.0.1:{free_port()}",
            "credentials": {"app_key": "a", "sign_secret": "s", "access_token": "t"},
        },
    )
    assert channel.status_code == 201, channel.text
    locked = shop.post("/live-lock", json={"channel_id": channel.json()["id"], "sku_ids": [sku_id]})
    assert locked.status_code == 200, locked.text


@contextmanager
def _workbench(shop: ShopClient, lang: str = "zh_CN") -> Iterator[httpx.Client]:
    """A browser-like client signed in to the workbench with the shop's owner key."""
    with httpx.Client(base_url=shop.http.base_url, timeout=60, follow_redirects=True) as web:
        web.cookies.set("tierstock_lang", lang)
        signed = web.post("/web/signin", data={"api_key": shop.key})
        assert signed.status_code == 200, signed.text
        yield web


def test_seed_case_stock_raised_mid_live_is_refused_then_flagged_everywhere(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=10, presale=0, sales_form=SPOT_FORM)
    sid = sku["id"]
    operator, viewer = _key(shop, "operator"), _key(shop, "viewer")
    _go_live(shop, sid)
    path = f"/skus/{sid}/stock/spot"

    # the operator's raise mid-live: 409, naming the field; the operator cannot override
    refused = shop.put(path, json={"available": 500, "reason": "还有货"}, headers=operator)
    body = assert_error(refused, 409, error="stock_needs_evidence", field="available")
    assert "during a live session" in body["message"]
    forbidden = shop.put(
        path, json={"available": 500, "reason": "还有货", "override": True}, headers=operator
    )
    assert_error(forbidden, 403, error="stock_override_owner_only", field="override")
    # the owner needs the explicit override, with a reason; `true` must be a JSON boolean
    assert_error(shop.put(path, json={"available": 500}), 409, error="stock_needs_evidence")
    assert_error(shop.put(path, json={"available": 500, "override": True}), 422, field="reason")
    assert_error(
        shop.put(path, json={"available": 500, "override": "true", "reason": "x"}),
        422,
        error="validation_error",
        field="override",
    )
    assert shop.available(sid)["spot"] == 10

    done = shop.put(
        path, json={"available": 500, "reason": "样品间还有货，未开单", "override": True}
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"tier": "spot", "quantity": 500, "sold": 0, "available": 500}
    assert shop.order([(sid, 2)]).status_code == 201  # and it sells

    # the ledger flags the entry
    ledger = shop.get(f"/skus/{sid}/ledger").json()
    raised = next(e for e in ledger if e["kind"] == "set_stock")
    assert (raised["evidence"], raised["flagged"], raised["during_live"]) == (
        "override",
        True,
        True,
    )
    assert raised["quantity_delta"] == 490 and "owner" in raised["actor"]

    # the audit trail flags it
    trail = shop.get("/audit").json()
    flags = [e for e in _entries(trail) if e["action"] == "stock.raised_without_evidence"]
    assert len(flags) == 1 and flags[0]["reason"] == "样品间还有货，未开单"

    # the report: per SKU, with who and when — for the owner and the operator, no one else
    report = shop.get("/stock/unevidenced", headers=operator)
    assert report.status_code == 200, report.text
    got = report.json()
    assert (got["units"], got["flagged_units"]) == (500, 490)
    (row,) = got["skus"]
    assert (row["sku_id"], row["sku_code"], row["live_units"]) == (sid, sku["code"], 490)
    override = next(r for r in row["raises"] if r["flagged"])
    assert override["during_live"] and override["units"] == 490
    assert override["at"].endswith("+08:00") and "owner" in override["actor"]
    assert "库存无依据上调" in override["text_zh"] and "直播中" in override["text_zh"]
    assert override["text_en"].startswith("Stock raised without evidence")
    opening = next(r for r in row["raises"] if not r["flagged"])
    assert opening["opening"] and opening["units"] == 10
    assert_error(shop.get("/stock/unevidenced", headers=viewer), 403, error="forbidden")

    # the overview shows the flag, in Chinese and in English
    for lang, flag, live in (
        ("zh_CN", "库存无依据上调", "直播中上调"),
        ("en", "Stock raised without evidence", "raised during a live session"),
    ):
        with _workbench(shop, lang) as web:
            page = web.get("/web/")
            assert page.status_code == 200
            html = page.text
            assert 'data-testid="unevidenced-flag"' in html and flag in html
            assert f'data-testid="unevidenced-override" data-sku-id="{sid}"' in html
            assert 'data-live="true"' in html and live in html
            assert "样品间还有货，未开单" in html


def _entries(trail: Any) -> list[dict[str, Any]]:
    """The audit trail's entries, whether answered as a list or wrapped in an object."""
    if isinstance(trail, dict):
        for value in trail.values():
            if isinstance(value, list):
                return value
    assert isinstance(trail, list)
    return trail


def test_a_receipt_with_supplier_and_delivery_note_is_evidence_and_not_flagged(
    shop: ShopClient,
) -> None:
    sku = shop.listed_sku(spot=0, presale=0, sales_form=SPOT_FORM)
    sid = sku["id"]
    operator = _key(shop, "operator")
    receipt = {"quantity": 120, "supplier": "义乌服装厂", "delivery_note": "SH-20261126-01"}
    r = shop.post(f"/skus/{sid}/stock/receipts", json=receipt, headers=operator)
    assert r.status_code == 200, r.text
    assert r.json()["available"] == 120
    (entry,) = shop.get(f"/skus/{sid}/ledger").json()
    assert (entry["evidence"], entry["flagged"]) == ("receipt", False)
    assert (entry["supplier"], entry["delivery_note"]) == ("义乌服装厂", "SH-20261126-01")
    assert shop.get("/stock/unevidenced").json()["skus"] == []

    # the same delivery note cannot back the same SKU twice
    again = shop.post(f"/skus/{sid}/stock/receipts", json=receipt, headers=operator)
    assert_error(again, 409, error="delivery_note_already_received", field="delivery_note")
    # a receipt without its paperwork is no evidence
    bare = shop.post(
        f"/skus/{sid}/stock/receipts",
        json={"quantity": 5, "supplier": "义乌服装厂"},
        headers=operator,
    )
    assert_error(bare, 409, error="stock_needs_evidence", field="delivery_note")
    assert shop.available(sid)["spot"] == 120

    with _workbench(shop) as web:
        html = web.get("/web/").text
        assert 'data-testid="unevidenced-flag"' not in html
        assert "所有上架的现货都有到货单据或盘点作为依据" in html


def test_lowering_stock_needs_no_evidence(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=20, presale=0, sales_form=SPOT_FORM)
    _go_live(shop, sku["id"])
    r = shop.put(
        f"/skus/{sku['id']}/stock/spot",
        json={"available": 4, "reason": "破损"},
        headers=_key(shop, "operator"),
    )
    assert r.status_code == 200, r.text
    assert shop.available(sku["id"])["spot"] == 4


def test_a_presale_receipt_on_a_spot_only_sku_is_refused_not_hidden(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=0, sales_form=SPOT_FORM)
    r = shop.post(
        f"/skus/{sku['id']}/stock/receipts",
        json={"tier": "presale", "quantity": 50, "supplier": "工厂", "delivery_note": "P-1"},
    )
    body = assert_error(r, 409, error="tier_not_sold", field="tier")
    assert "spot SKU sells no presale units" in body["message"]
    tiers = shop.stock(sku["id"])
    assert tiers["spot"]["available"] == 5
    assert tiers.get("presale", {"quantity": 0})["quantity"] == 0


def test_the_workbench_receives_goods_with_their_paperwork(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=0, presale=0, sales_form=SPOT_FORM)
    sid = sku["id"]
    with _workbench(shop) as web:
        htmx = {"HX-Request": "true"}
        bare = web.post(
            f"/web/stock/{sid}/receipts", data={"tier": "spot", "quantity": "8"}, headers=htmx
        )
        assert bare.status_code == 409
        assert 'data-code="stock_needs_evidence"' in bare.text
        assert "上调现货库存需要依据" in bare.text
        done = web.post(
            f"/web/stock/{sid}/receipts",
            data={"tier": "spot", "quantity": "8", "supplier": "工厂", "delivery_note": "DN-9"},
            headers=htmx,
        )
        assert done.status_code == 200, done.text
        assert 'data-evidence="receipt"' in done.text and "DN-9" in done.text
        flagged = web.post(
            f"/web/stock/{sid}/override",
            data={"available": "30", "reason": "档口拿货"},
            headers=htmx,
        )
        assert flagged.status_code == 200, flagged.text
        assert 'data-testid="flag-unevidenced"' in flagged.text
    assert shop.available(sid)["spot"] == 30
