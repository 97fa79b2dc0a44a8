"""The Redis front over HTTP (PostgreSQL): a burst through `tierstock serve` with
TIERSTOCK_REDIS_URL, the server killed with -9 in the middle, then `tierstock front
drain` and `tierstock verify`: nothing acknowledged is lost, nothing is sold twice."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.e2e.test_crash import _place, open_hot_sku
from tierstock.services.placing.redis_front.front import ReservationFront
from tierstock.services.runtime import Runtime
from tierstock.testing import TIERSTOCK, served

BUYERS = 400
CLIENTS = 16
KILL_AFTER = 150


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TIERSTOCK), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def _forget(database_url: str, redis: str) -> None:
    runtime = Runtime.open(database_url, migrate=False)
    ReservationFront.connect(runtime, redis, 1).forget_everything()
    runtime.close()


def test_kill_9_mid_burst_through_the_front_loses_no_acknowledged_order(
    postgresql_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    env = {
        "TIERSTOCK_DATABASE_URL": postgresql_url,
        "TIERSTOCK_REDIS_URL": redis_url,
        "TIERSTOCK_FRONT_LEASE_UNITS": "25",
    }
    _forget(postgresql_url, redis_url)  # the front of this database starts clean (and on)
    log = tmp_path / "serve.log"
    keys = [f"front-{uuid.uuid4().hex}-{i}" for i in range(BUYERS)]
    results: dict[str, tuple[str, object]] = {}
    with (
        served(postgresql_url, log, env=env) as (base, proc),
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        api_key, sku_id = open_hot_sku(http, "前置预占店", "FRONT-HTTP", spot=100, presale=200)
        lock, killed = threading.Lock(), threading.Event()

        def buyer(key: str) -> None:
            outcome = _place(http, key, api_key, sku_id)
            with lock:
                results[key] = outcome
                if (
                    sum(1 for o, _ in results.values() if o == "ok") >= KILL_AFTER
                    and not killed.is_set()
                ):
                    killed.set()
                    os.kill(proc.pid, signal.SIGKILL)

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(buyer, keys))
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL

    acknowledged = {k: v for k, (o, v) in results.items() if o == "ok"}
    status = _cli("front", "status", env=env)
    assert status.returncode == 0 and "front on" in status.stdout, status.stderr
    drained = _cli("front", "drain", "--wait", "20", env=env)
    assert drained.returncode == 0, drained.stderr
    assert "front off" in drained.stdout

    with (
        served(postgresql_url, log, env=env) as (base, _),
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        auth = {"X-API-Key": api_key}
        for order in acknowledged.values():  # written by the drain, as answered
            r = http.get(f"/orders/{order['id']}", headers=auth)  # type: ignore[index]
            assert r.status_code == 200 and r.json() == order
        final: dict[str, object] = dict(acknowledged)
        for key in keys:  # retries go to the database path now: replay or place
            if results[key][0] == "unknown":
                outcome, value = _place(http, key, api_key, sku_id)
                assert outcome in ("ok", "refused"), value
                if outcome == "ok":
                    final[key] = value
        for key in list(acknowledged)[:10]:
            assert _place(http, key, api_key, sku_id) == ("ok", acknowledged[key])
        stock = {
            t["tier"]: t for t in http.get(f"/skus/{sku_id}/stock", headers=auth).json()["tiers"]
        }

    sold_by_tier = {"spot": 0, "presale": 0}
    for order in final.values():
        for line in order["lines"]:  # type: ignore[index]
            sold_by_tier[line["tier"]] += line["quantity"]
    assert {t: stock[t]["sold"] for t in stock} == sold_by_tier
    assert stock["spot"]["sold"] == 100
    verify = _cli("verify", env=env)
    assert verify.returncode == 0, verify.stderr
    assert "front check passed" in verify.stdout
    _forget(postgresql_url, redis_url)


def test_front_commands_without_redis_say_so_in_one_line(postgresql_url: str) -> None:
    result = _cli(
        "front", "status", env={"TIERSTOCK_DATABASE_URL": postgresql_url, "TIERSTOCK_REDIS_URL": ""}
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: the Redis front is off: set TIERSTOCK_REDIS_URL (PostgreSQL only)"
    ]


def test_the_front_with_sqlite_is_refused_in_one_line(tmp_path: Path) -> None:
    result = _cli(
        "verify",
        env={
            "TIERSTOCK_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "TIERSTOCK_REDIS_URL": "redis://127.0.0.1:6379/0",
        },
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: the Redis front needs PostgreSQL (TIERSTOCK_DATABASE_URL)"
    ]


def test_front_fold_writes_what_the_front_answered(postgresql_url: str, redis_url: str) -> None:
    from tests.integration.test_burst import listed_sku, open_shop
    from tierstock.domain.orders import LineRequest
    from tierstock.services.placing import PlaceOrder

    _forget(postgresql_url, redis_url)  # the front of this database starts clean (and on)
    runtime = Runtime.open(postgresql_url)
    runtime.attach_front(redis_url, 10, fold=False)  # the namespace the CLI derives too
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "FOLD-CLI", spot=20, presale=0)
    answers = [
        runtime.place_order(PlaceOrder(shop, f"cli-{i}", (LineRequest(sku, 1),))) for i in range(5)
    ]
    env = {"TIERSTOCK_DATABASE_URL": postgresql_url, "TIERSTOCK_REDIS_URL": redis_url}
    try:
        folded = _cli("front", "fold", env=env)
        assert folded.returncode == 0, folded.stderr
        assert "5 order(s) folded" in folded.stdout
        with runtime.uow(readonly=True) as uow:
            assert [uow.orders.get(shop, a.order.id) for a in answers] == [a.order for a in answers]
        assert _cli("front", "drain", env=env).returncode == 0
        assert _cli("verify", env=env).returncode == 0
    finally:
        runtime.close()
        _forget(postgresql_url, redis_url)
