"""kill -9 the channel worker mid-page and mid-push: restarted, it loses and doubles
nothing (SQLite and PostgreSQL).

The worker runs as a real process (``python -c``: ``Runtime.open(url)`` and
``ChannelWorker(...).follow()``, as ``tierstock channels sync --follow`` does); the two
stores are loopback doubles in this process, slowed to 100 ms a call so a kill lands
inside a page of orders and inside a batch of pushes. After the last restart every
platform order is recorded and placed exactly once, every store shows its quota, and
the ledger matches the stock (tests/integration/test_channels_sync.py: the audit).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tests.integration.test_burst import listed_sku, open_shop
from tests.integration.test_channels_sync import (
    ITEM,
    KEY,
    assert_exactly_once,
    dy_buy,
    ks_buy,
    link,
    open_stores,
    platform_orders,
    settled,
)
from tierstock.domain.channels import Channel
from tierstock.services.runtime import Runtime
from tierstock.testing.platforms.base import PlatformDouble
from tierstock.testing.platforms.douyin import DouyinDouble
from tierstock.testing.platforms.kuaishou import STOCK_UPDATE, KuaishouDouble

SKUS = 8  # each linked in both stores: 16 links, so pushes come in batches
LATENCY_S = 0.1
WORKER = """
import os, sys
from datetime import timedelta
from tierstock.services.channels.worker import ChannelWorker
from tierstock.services.runtime import Runtime

runtime = Runtime.open(sys.argv[1], migrate=False)
key = os.environ["TIERSTOCK_TEST_CHANNEL_KEY"].encode()
ChannelWorker(runtime, key, lag=timedelta(0), reconcile_every=3600).follow(0.05)
"""


@contextmanager
def worker_process(database_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "TIERSTOCK_TEST_CHANNEL_KEY": KEY.decode()}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, database_url], env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], log: Path) -> None:
    """kill -9 the worker the moment ``ready()`` holds (polled every 5 ms)."""
    deadline = time.monotonic() + 20
    while not ready():
        assert proc.poll() is None, "the worker died:\n" + log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_mid_page_and_mid_push_loses_and_doubles_nothing(
    database_url: str, _engines: Runtime, tmp_path: Path
) -> None:
    runtime = Runtime(_engines.engine, lambda: datetime.now(UTC), secret_source=lambda: KEY)
    shop_id = open_shop(runtime)
    skus = [listed_sku(runtime, shop_id, f"crash-{k}", spot=40, presale=40) for k in range(SKUS)]
    log = tmp_path / "worker.log"
    with KuaishouDouble() as ks, DouyinDouble() as dy:
        ks_channel, dy_channel = open_stores(runtime, shop_id, ks, dy)
        refs = [(str(740_001 + k), str(750_001 + k)) for k in range(SKUS)]
        for sku, (ks_ref, dy_ref) in zip(skus, refs, strict=True):
            link(runtime, shop_id, ks_channel, ks, sku, ks_ref)
            link(runtime, shop_id, dy_channel, dy, sku, dy_ref)
            ks.set_stock(ITEM, ks_ref, 50)  # the stores sell before the first push
            dy.set_stock(ITEM, dy_ref, 50)
        stores: list[tuple[Channel, PlatformDouble]] = [(ks_channel, ks), (dy_channel, dy)]
        for i in range(100):  # two pages on Kuaishou (50 a page), one on Douyin
            ks_ref, dy_ref = refs[i % SKUS]
            ks_buy(ks, ks_ref)
            if i < 40:
                dy_buy(dy, dy_ref)
        time.sleep(0.2)  # every order's update time is in the past
        for double in (ks, dy):
            double.faults.latency_s = LATENCY_S
        total = len(platform_orders(ks)) + len(platform_orders(dy))

        def recorded(channel: Channel) -> int:
            with runtime.uow(readonly=True) as uow:
                return uow.channels.platform_orders_count(channel.id)

        # 1. mid-page: part of Kuaishou's first page recorded, the rest (and the cursor
        # past it) not yet
        with worker_process(database_url, log) as proc:
            kill_when(proc, lambda: recorded(ks_channel) >= 20, log)
        assert 20 <= recorded(ks_channel) < 50, "the kill did not land in the first page"

        for i in range(6):  # buyers keep paying while the worker is down
            ks_buy(ks, refs[i][0])
        total += 6

        # 2. mid-push: restarted, it reads the rest and pushes; killed among the pushes
        changes = ks.state.calls[STOCK_UPDATE]
        with worker_process(database_url, log) as proc:
            kill_when(proc, lambda: ks.state.calls[STOCK_UPDATE] >= changes + 3, log)
        assert not settled(runtime, shop_id, stores), "the kill came after the last push"

        # 3. restarted once more, it converges: every order once, every store its quota
        with worker_process(database_url, log) as proc:
            deadline = time.monotonic() + 25
            while not settled(runtime, shop_id, stores):
                assert proc.poll() is None, "the worker died:\n" + log.read_text()[-3000:]
                assert time.monotonic() < deadline, "the stores never showed their quotas"
                time.sleep(0.1)
        assert len(platform_orders(ks)) + len(platform_orders(dy)) == total
        assert_exactly_once(runtime, shop_id, skus, stores)
