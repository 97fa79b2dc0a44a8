"""kill -9 the server in the middle of a burst: nothing acknowledged is lost, nothing
is sold twice, retries do not double-allocate, and `tierstock verify` passes.

SQLite in WAL mode with synchronous=NORMAL survives a process crash (the WAL is in the
OS page cache before COMMIT returns); only an OS crash or power loss could lose the
last transactions, which a kill -9 test cannot show.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tierstock.testing import TIERSTOCK, served

BUYERS = 500
CLIENTS = 16
KILL_AFTER = 120  # acknowledged orders before the kill


def _place(client: httpx.Client, key: str, api_key: str, sku_id: int) -> tuple[str, object]:
    try:
        r = client.post(
            "/orders",
            json={"lines": [{"sku_id": sku_id, "quantity": 1}]},
            headers={"X-API-Key": api_key, "Idempotency-Key": key},
        )
    except httpx.TransportError as exc:
        return "unknown", type(exc).__name__
    if r.status_code in (200, 201):
        return "ok", r.json()
    if r.status_code == 409 and r.json()["error"] == "insufficient_stock":
        return "refused", r.status_code
    return "unknown", r.status_code  # e.g. a 5xx while the process was dying


def open_hot_sku(
    http: httpx.Client, shop_name: str, code: str, *, spot: int, presale: int
) -> tuple[str, int]:
    """A new shop with one listed tiered SKU, over HTTP: (its owner API key, SKU id)."""
    api_key: str = http.post("/shops", json={"name": shop_name}).json()["api_key"]
    auth = {"X-API-Key": api_key}
    product = http.post("/products", json={"name": "爆款"}, headers=auth).json()
    sku = http.post(
        f"/products/{product['id']}/skus",
        headers=auth,
        json={
            "code": code,
            "price_fen": 9900,
            "spot_stock": spot,
            "presale_stock": presale,
            "sales_form": {"form": "tiered", "spot_window_hours": 48, "presale_days": 5},
        },
    ).json()
    http.post(f"/products/{product['id']}/list", headers=auth)
    return api_key, int(sku["id"])


def test_kill_9_mid_burst_loses_no_acknowledged_order_and_sells_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    keys = [f"crash-{uuid.uuid4().hex}-{i}" for i in range(BUYERS)]
    results: dict[str, tuple[str, object]] = {}
    with served(database_url, log) as (base, proc), httpx.Client(base_url=base, timeout=30) as http:
        api_key, sku_id = open_hot_sku(http, "崩溃测试店", "HOT-1", spot=100, presale=300)
        lock = threading.Lock()
        killed = threading.Event()

        def buyer(key: str) -> None:
            outcome = _place(http, key, api_key, sku_id)
            with lock:
                results[key] = outcome
                acked = sum(1 for o, _ in results.values() if o == "ok")
                if acked >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    os.kill(proc.pid, signal.SIGKILL)

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(buyer, keys))
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL, "the server was not killed mid-burst"

    acknowledged = {k: v for k, (o, v) in results.items() if o == "ok"}
    assert len(acknowledged) >= KILL_AFTER
    assert any(o == "unknown" for o, _ in results.values()), "the kill came after the burst"

    with served(database_url, log) as (base, _), httpx.Client(base_url=base, timeout=30) as http:
        auth = {"X-API-Key": api_key}
        for order in acknowledged.values():  # every acknowledged order survived
            assert isinstance(order, dict)
            r = http.get(f"/orders/{order['id']}", headers=auth)
            assert r.status_code == 200
            assert r.json()["lines"] == order["lines"]
        final: dict[str, object] = dict(acknowledged)
        for key in keys:  # clients retry everything they are unsure of, with the same key
            if results[key][0] == "unknown":
                outcome, value = _place(http, key, api_key, sku_id)
                assert outcome in ("ok", "refused"), value
                if outcome == "ok":
                    final[key] = value
        for key in list(acknowledged)[:20]:  # and retrying an acknowledged one replays it
            outcome, value = _place(http, key, api_key, sku_id)
            assert outcome == "ok" and value == acknowledged[key]
        stock = {
            t["tier"]: t for t in http.get(f"/skus/{sku_id}/stock", headers=auth).json()["tiers"]
        }

    order_ids = {o["id"] for o in final.values()}  # type: ignore[index]
    assert len(order_ids) == len(final), "two keys share an order"
    sold_by_tier = {"spot": 0, "presale": 0}
    for order in final.values():
        for line in order["lines"]:  # type: ignore[index]
            sold_by_tier[line["tier"]] += line["quantity"]
    assert {t: stock[t]["sold"] for t in stock} == sold_by_tier
    assert all(t["sold"] <= t["quantity"] for t in stock.values())

    verify = subprocess.run(
        [str(TIERSTOCK), "verify"],
        capture_output=True,
        text=True,
        env={**os.environ, "TIERSTOCK_DATABASE_URL": database_url},
    )
    assert verify.returncode == 0, verify.stderr
