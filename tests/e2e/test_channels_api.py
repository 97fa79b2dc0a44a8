"""Channels over HTTP against the real server, on SQLite and PostgreSQL (docs/rules.md §10):
a store is created and listed without ever showing a secret, SKUs are linked, quota rules
and safety stock set (a share over 100 and a bad platform are 422s naming the field), the
live lock given and released, another shop's channel is a 404 — and, with orders read
from a Kuaishou double as the channel worker reads them, an oversell shows in the
incidents and the status, and drift is reported (dry run) then repaired."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Api, ShopClient, assert_error
from tierstock.config import Settings
from tierstock.services.channels import setup
from tierstock.services.channels.clients import Clients
from tierstock.services.channels.orders_in import sync_orders
from tierstock.services.runtime import Runtime
from tierstock.testing.platforms.kuaishou import KuaishouDouble
from tierstock.testing.server import free_port

ITEM, KS_SKU, DY_SKU = "1001", "2001", "3001"
KS_SECRETS = {
    "app_key": "ks-app-key-never-shown",
    "sign_secret": "ks-sign-secret-never-shown",
    "access_token": "ks-access-token-never-shown",
}
DY_SECRETS = {
    "app_key": "dy-app-key-never-shown",
    "app_secret": "dy-app-secret-never-shown",
    "access_token": "dy-access-token-never-shown",
}
SECRET_VALUES = [*KS_SECRETS.values(), *DY_SECRETS.values()]


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _dead_url() -> str:
    """A loopback port nothing listens on: no test's store is ever a real platform."""
    return f"http://127.0.0.1:{free_port()}"


def _no_secret(text: str) -> None:
    assert [s for s in SECRET_VALUES if s in text] == [], text


def _store(shop: ShopClient, platform: str, name: str, **extra: Any) -> dict[str, Any]:
    secrets = {"kuaishou": KS_SECRETS, "douyin": DY_SECRETS}.get(platform, {})
    body = {"platform": platform, "name": name, "credentials": secrets, **extra}
    if platform != "own":
        body.setdefault("server_url", _dead_url())
    r = shop.post("/channels", json=body)
    _no_secret(r.text)
    made: dict[str, Any] = _ok(r, 201)
    return made


def _status(shop: ShopClient) -> dict[int, dict[str, Any]]:
    r = shop.get("/channels")
    _no_secret(r.text)
    return {c["id"]: c for c in _ok(r)}


def _link(shop: ShopClient, channel: int, sku: int, ref: str) -> Any:
    body = {"sku_id": sku, "platform_item_id": ITEM, "platform_sku_id": ref}
    return shop.post(f"/channels/{channel}/links", json=body)


def _rule(shop: ShopClient, sku: int, channel: int, kind: str | None, value: int = 0) -> Any:
    return shop.put(f"/skus/{sku}/channels/{channel}/rule", json={"kind": kind, "value": value})


def test_a_store_is_created_and_listed_without_ever_showing_a_secret(shop: ShopClient) -> None:
    made = _store(shop, "kuaishou", "快手旗舰店")
    assert made == {
        "id": made["id"],
        "platform": "kuaishou",
        "name": "快手旗舰店",
        "live": False,
        "credential_fields": ["app_key", "sign_secret", "access_token"],
    }
    own = _store(shop, "own", "自营商城")
    assert own["credential_fields"] == []
    listed = _status(shop)
    assert listed[made["id"]] == {
        **made,
        "links": 0,
        "synced_until": None,
        "platform_orders": 0,
        "queued_pushes": 0,
        "drifted_links": 0,
        "open_incidents": 0,
        "exposure_fen": 0,
        "exposure_yuan": "0.00",
    }
    assert set(listed) == {made["id"], own["id"]}
    # a retry with the same Idempotency-Key replays the answer: still no secret
    body = {"platform": "douyin", "name": "抖店", "credentials": DY_SECRETS}
    body["server_url"] = _dead_url()
    headers = {"Idempotency-Key": "channel-douyin-1"}
    first = shop.post("/channels", json=body, headers=headers)
    again = shop.post("/channels", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == again.json()
    _no_secret(first.text + again.text)
    assert len(_status(shop)) == 3
    _no_secret(shop.get("/audit").text + shop.get("/audit/export.csv").text)


def test_a_bad_store_is_a_422_naming_the_field_and_echoing_no_secret(shop: ShopClient) -> None:
    def add(**body: Any) -> Any:
        r = shop.post("/channels", json={"name": "店", "server_url": _dead_url(), **body})
        _no_secret(r.text)
        return r

    assert_error(add(platform="pinduoduo"), 422, error="validation_error", field="platform")
    assert_error(add(platform=1), 422, error="validation_error", field="platform")
    partial = {k: v for k, v in KS_SECRETS.items() if k != "sign_secret"}
    assert_error(
        add(platform="kuaishou", credentials=partial),
        422,
        error="invalid_value",
        field="credentials.sign_secret",
    )
    extra = {**KS_SECRETS, "pin": KS_SECRETS["access_token"]}
    assert_error(add(platform="kuaishou", credentials=extra), 422, field="credentials.pin")
    too_long = {**KS_SECRETS, "sign_secret": "s" * 501}
    assert_error(
        add(platform="kuaishou", credentials=too_long), 422, field="credentials.sign_secret"
    )
    assert_error(
        add(platform="kuaishou", credentials=KS_SECRETS, server_url="ftp://gw"),
        422,
        field="server_url",
    )
    assert_error(add(platform="own", name=" "), 422, field="name")
    _store(shop, "own", "自营商城")
    assert_error(add(platform="own", name="自营商城"), 409, error="duplicate", field="name")
    assert _status(shop).keys() and len(_status(shop)) == 1


def test_links_rules_safety_stock_and_the_live_lock(shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=10, presale=5)["id"]
    ks = _store(shop, "kuaishou", "快手店")["id"]
    dy = _store(shop, "douyin", "抖店")["id"]
    own = _store(shop, "own", "自营商城")["id"]

    link = _ok(_link(shop, ks, sku, KS_SKU), 201)
    assert link == {
        "id": link["id"],
        "channel_id": ks,
        "sku_id": sku,
        "platform_item_id": ITEM,
        "platform_sku_id": KS_SKU,
    }
    assert_error(_link(shop, ks, sku, "2002"), 409, error="duplicate", field="platform_sku_id")
    assert_error(_link(shop, own, sku, "2003"), 422, field="channel_id")
    assert_error(_link(shop, ks, 999_999_999, "2004"), 404, field="sku_id")
    bad = {"sku_id": str(sku), "platform_item_id": ITEM, "platform_sku_id": "2005"}
    assert_error(shop.post(f"/channels/{ks}/links", json=bad), 422, field="sku_id")
    _ok(_link(shop, dy, sku, DY_SKU), 201)

    assert _ok(_rule(shop, sku, ks, "share", 60)) == {
        "sku_id": sku,
        "channel_id": ks,
        "kind": "share",
        "value": 60,
    }
    over = assert_error(_rule(shop, sku, dy, "share", 101), 422, error="invalid_value")
    assert over["field"] == "value" and "0 to 100" in over["message"]
    total = assert_error(_rule(shop, sku, dy, "share", 50), 422, field="value")
    assert "110 %" in total["message"]
    assert_error(_rule(shop, sku, dy, "percent", 5), 422, error="validation_error", field="kind")
    assert_error(_rule(shop, sku, dy, "fixed", -1), 422, field="value")
    assert _ok(_rule(shop, sku, dy, "fixed", 3))["value"] == 3
    assert _ok(_rule(shop, sku, ks, None)) == {
        "sku_id": sku,
        "channel_id": ks,
        "kind": None,
        "value": None,
    }

    safety = shop.put(f"/skus/{sku}/safety-stock", json={"units": 2})
    assert _ok(safety) == {"sku_id": sku, "units": 2}
    assert_error(shop.put(f"/skus/{sku}/safety-stock", json={"units": -1}), 422, field="units")
    assert_error(shop.put("/skus/999999999/safety-stock", json={"units": 1}), 404, field="sku_id")

    locked = shop.post("/live-lock", json={"channel_id": ks, "sku_ids": [sku, sku]})
    assert _ok(locked) == {"channel_id": ks, "sku_ids": [sku]}
    status = _status(shop)
    assert status[ks]["live"] is True and status[dy]["live"] is False
    assert status[ks]["links"] == 1 and status[ks]["queued_pushes"] == 1
    assert_error(shop.post("/live-lock", json={"channel_id": own, "sku_ids": [sku]}), 422)
    assert_error(
        shop.post("/live-lock", json={"channel_id": ks, "sku_ids": []}), 422, field="sku_ids"
    )
    assert shop.request("DELETE", "/live-lock").status_code == 204
    assert not any(c["live"] for c in _status(shop).values())


def test_another_shops_channel_is_a_404(api: Api, shop: ShopClient) -> None:
    sku = shop.listed_sku(spot=5, presale=5)["id"]
    ks = _store(shop, "kuaishou", "快手店")["id"]
    other = api.new_shop("别人的店")
    their_sku = other.listed_sku(spot=5, presale=5)["id"]
    assert_error(_link(other, ks, their_sku, KS_SKU), 404, error="not_found", field="channel_id")
    assert_error(_rule(other, their_sku, ks, "share", 10), 404, field="channel_id")
    r = other.post("/live-lock", json={"channel_id": ks, "sku_ids": [their_sku]})
    assert_error(r, 404, field="channel_id")
    assert_error(_link(shop, ks, their_sku, KS_SKU), 404, field="sku_id")  # and theirs to us
    assert _ok(other.get("/channels")) == []
    assert _ok(other.get("/channels/incidents")) == []
    assert _status(shop)[ks]["links"] == 0
    assert _ok(_link(shop, ks, sku, KS_SKU), 201)


def test_who_may_set_up_stores_and_who_may_run_them(shop: ShopClient) -> None:
    keys = {
        role: {"X-API-Key": _ok(shop.post("/keys", json={"role": role}), 201)["api_key"]}
        for role in ("operator", "viewer")
    }
    body = {"platform": "own", "name": "自营商城"}
    refused = shop.post("/channels", json=body, headers=keys["operator"])
    assert_error(refused, 403, error="forbidden")
    assert_error(shop.post("/channels/reconcile", headers=keys["operator"]), 403)
    assert_error(shop.get("/channels", headers=keys["viewer"]), 403)
    own = _store(shop, "own", "自营商城")
    assert [c["id"] for c in _ok(shop.get("/channels", headers=keys["operator"]))] == [own["id"]]


# --- with the channel worker, against a Kuaishou double ------------------------------------


@pytest.fixture()
def worker_runtime(database_url: str) -> Iterator[Runtime]:
    """The server's database, with the server's secret key (the same settings: the
    server inherits this process's environment), for the channel worker's work here."""
    runtime = Runtime.open(database_url, migrate=False)
    runtime.secret_source = Settings().resolved_secret_key
    yield runtime
    runtime.engine.dispose()


def test_an_oversell_shows_in_the_incidents_and_drift_is_reported_then_repaired(
    shop: ShopClient, worker_runtime: Runtime
) -> None:
    sku = shop.listed_sku(spot=3, presale=5)["id"]
    with KuaishouDouble() as ks:
        creds = {"app_key": ks.app_key, "sign_secret": ks.sign_secret}
        creds["access_token"] = ks.access_token
        body = {"platform": "kuaishou", "name": "快手旗舰店", "credentials": creds}
        channel = _ok(shop.post("/channels", json={**body, "server_url": ks.url}), 201)
        _ok(_link(shop, channel["id"], sku, KS_SKU), 201)
        ks.set_stock(ITEM, KS_SKU, 20)
        ks.add_order(ITEM, KS_SKU, 2, unit_price_fen=29_900)
        over = ks.add_order(ITEM, KS_SKU, 9, unit_price_fen=29_900)  # no tier holds 9

        # the worker's order sync for this store alone: the database is shared with other
        # tests, whose stores are sealed with keys of their own
        (store,) = setup.channels_of(shop.id, worker_runtime.uow(readonly=True))
        clients = Clients(worker_runtime, worker_runtime.secret_key())
        try:
            read = sync_orders(worker_runtime, store, clients.get(store), lag=timedelta(0))
        finally:
            clients.close()
        assert (read.placed, read.incidents) == (1, 1)
        assert shop.available(sku) == {"spot": 1, "presale": 5}

        (incident,) = _ok(shop.get("/channels/incidents", params={"open": "true"}))
        assert incident["platform_order_id"] == over
        assert (incident["channel_id"], incident["sku_id"], incident["quantity"]) == (
            channel["id"],
            sku,
            9,
        )
        assert (incident["paid_fen"], incident["paid_yuan"]) == (269_100, "2691.00")
        assert (incident["exposure_fen"], incident["resolved_at"]) == (20_000, None)
        assert datetime.fromisoformat(incident["created_at"]).utcoffset() == timedelta(hours=8)
        assert _ok(shop.get("/channels/incidents")) == [incident]
        status = _status(shop)[channel["id"]]
        assert (status["platform_orders"], status["open_incidents"]) == (2, 1)
        assert (status["exposure_fen"], status["exposure_yuan"]) == (20_000, "200.00")
        synced = datetime.fromisoformat(status["synced_until"])
        assert synced.utcoffset() == timedelta(hours=8)

        assert ks.stock_of(ITEM, KS_SKU) == 9  # 20 less the two orders: not yet pushed
        dry = _ok(shop.post("/channels/reconcile", params={"dry_run": "true"}))
        assert dry["dry_run"] is True
        (drift,) = dry["drifts"]
        assert {k: drift[k] for k in ("channel", "sku_id", "shown", "quota", "repaired")} == {
            "channel": "快手旗舰店",
            "sku_id": sku,
            "shown": 9,
            "quota": 6,  # 1 spot + 5 presale left
            "repaired": False,
        }
        assert ks.stock_of(ITEM, KS_SKU) == 9
        repaired = _ok(shop.post("/channels/reconcile"))
        assert [d["repaired"] for d in repaired["drifts"]] == [True]
        assert ks.stock_of(ITEM, KS_SKU) == 6
        assert _ok(shop.post("/channels/reconcile"))["drifts"] == []
        everything = shop.get("/channels").text + shop.get("/channels/incidents").text
        assert ks.sign_secret not in everything and ks.access_token not in everything
