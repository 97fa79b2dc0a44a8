"""The Redis reservation front (services/placing/redis_front/front.py) in the hot-SKU benchmark.

Run by ``bench/hot_sku.py`` on PostgreSQL when Redis answers on 127.0.0.1:6379 (or
``TIERSTOCK_BENCH_REDIS``). Each measurement sells through the front with a folder
thread in the same process, then drains the front (every reservation folded, unsold
leased units given back) *before* the audit, so the oversell checks read only the
database. The note says how many reservations were still waiting to be folded when
the clients stopped and how long the drain took: the database's lag behind the buyers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis

from bench import wrk_orders
from bench.common import Backend, Measurement, run_clients, seed_shop, shared, tierstock_server
from tierstock.testing import TIERSTOCK

REDIS_URL = os.environ.get("TIERSTOCK_BENCH_REDIS", "redis://127.0.0.1:6379/0")
LEASE_UNITS = 500
FRONT = "tierstock service, Redis front"  # folder thread in the same process (default)
FRONT_EXT = "Redis front, folder process"  # TIERSTOCK_FRONT_FOLD_IN_PROCESS=false
FRONT_MULTI = "Redis front, {n} hot SKU{s}"
FRONT_WRK = "tierstock HTTP (wrk), Redis front"


def redis_available() -> str | None:
    """Why the front cannot be measured, or None."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return str(exc)
    return None


def attach(runtime: Any, *, fold_in_process: bool) -> None:
    runtime.attach_front(REDIS_URL, LEASE_UNITS, fold=False)
    runtime.front.forget_everything()  # a clean front: nothing left from an earlier run
    if fold_in_process:
        runtime.start_folder()


@contextlib.contextmanager
def folder_process(database_url: str) -> Iterator[None]:
    """`tierstock front fold --follow` on the same database and Redis."""
    env = {
        **os.environ,
        "TIERSTOCK_DATABASE_URL": database_url,
        "TIERSTOCK_REDIS_URL": REDIS_URL,
        "NO_COLOR": "1",
    }
    proc = subprocess.Popen(
        [str(TIERSTOCK), "front", "fold", "--follow"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def drain_note(runtime: Any, m: Measurement) -> None:
    """Fold what is left and give unsold units back, timing it; then switch on again."""
    from tierstock.services.placing.redis_front import admin as front_admin

    waiting = front_admin.status(runtime.front).unfolded
    t0 = time.perf_counter()
    done = front_admin.drain(runtime.front, wait_seconds=60)
    took = time.perf_counter() - t0
    runtime.front.switch_on()
    m.extra.update(unfolded_at_end=waiting, drain_seconds=round(took, 2), void=len(done.void))
    m.note = f"{waiting} unfolded at end, drained in {took:.1f} s"
    if done.void:
        m.oversold += len(done.void)  # answered, then voided: a broken promise
        m.note += f"; {len(done.void)} VOIDED"


def run_front(
    backend: Backend,
    runtime: Any,
    cfg: Any,
    warm: Any,
    clients: int,
    skus: int,
    place_op: Callable[..., Any],
    spot_for: Callable[..., int],
    finish: Callable[..., Measurement],
    scenario: str = FRONT,
) -> Measurement:
    """``runtime.place_order`` through the front, on ``skus`` hot SKUs."""
    tag = f"front{clients}x{skus}{'e' if scenario == FRONT_EXT else ''}"
    pilot = run_clients(
        "warm",
        "warm",
        clients,
        shared(place_op(runtime, warm.shop_id, warm.sku_ids, f"w{tag}")),
        max_ops=cfg.max_ops,
        max_seconds=cfg.pilot_seconds,
    ).rate
    seeded = seed_shop(
        runtime,
        skus=skus,
        spot=max(1, spot_for(pilot, cfg) // skus),
        presale=cfg.max_ops * 2,
        label=tag,
    )
    if skus > 1:
        scenario = FRONT_MULTI.format(n=skus, s="s")
    m = run_clients(
        backend.name,
        scenario,
        clients,
        shared(place_op(runtime, seeded.shop_id, seeded.sku_ids, tag)),
        max_ops=cfg.max_ops,
        max_seconds=cfg.seconds,
    )
    drain_note(runtime, m)
    note, oversold = m.note, m.oversold
    finish(m, runtime, seeded)
    m.note, m.oversold = f"{m.note}; {note}", m.oversold + oversold
    m.extra["hot_skus"] = skus
    return m


def run_front_wrk(
    backend: Backend, runtime: Any, cfg: Any, spot: int, finish: Callable[..., Measurement]
) -> Measurement:
    """POST /orders driven by wrk against `tierstock serve --workers 2` with the front
    on (each server process folds with its own thread); drained from this process."""
    from tierstock.services.runtime import Runtime

    env = {"TIERSTOCK_REDIS_URL": REDIS_URL, "TIERSTOCK_FRONT_LEASE_UNITS": str(LEASE_UNITS)}
    hot = seed_shop(runtime, skus=1, spot=spot, presale=cfg.max_ops * 20, label="wrkfront")
    fronted = Runtime.open(backend.url, migrate=False)
    try:
        attach(fronted, fold_in_process=False)  # a clean front before the servers start
        with tierstock_server(backend.url, workers=2, env=env) as base:
            warm = seed_shop(runtime, skus=1, spot=10, presale=10**7, label="wrkfrontwarm")
            wrk_orders.run_wrk(
                backend.name,
                "warm",
                base,
                warm.api_key,
                warm.sku_ids[0],
                "fwarm",
                cfg.http_clients,
                max(1.0, cfg.pilot_seconds),
            )
            m = wrk_orders.run_wrk(
                backend.name,
                FRONT_WRK,
                base,
                hot.api_key,
                hot.sku_ids[0],
                "fwrk",
                cfg.http_clients,
                cfg.seconds,
            )
        # drained and audited once the servers have stopped: wrk leaves requests in
        # flight that they still place, and leases they were taking still land
        drain_note(fronted, m)
    finally:
        if fronted.front is not None:
            fronted.front.forget_everything()  # leave no keys behind in Redis
        fronted.close()
    note, oversold = m.note, m.oversold
    finish(m, runtime, hot)
    m.note, m.oversold = f"{m.note}; {note}; 2 server processes", m.oversold + oversold
    return m
