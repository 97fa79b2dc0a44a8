"""Channels on both databases: one pool sold in a Kuaishou and a Douyin store, each a
loopback double of the platform's open API reached through the real client.

Stock out (pushes converge on the quota), orders in (each platform order placed once,
with the buyer's promised ship-by), an oversell between stores becomes an incident
(never negative stock), cancels release once, a restarted worker doubles nothing, and
no credential reaches a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_burst import listed_sku, open_shop
from tierstock.domain.channels import SyncCursor
from tierstock.domain.sales_forms import Tier
from tierstock.services.channels import setup
from tierstock.services.channels.status import channel_status, incidents_of
from tierstock.services.channels.worker import ChannelWorker
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger
from tierstock.testing.platforms import douyin as dy_double
from tierstock.testing.platforms.douyin import DouyinDouble
from tierstock.testing.platforms.kuaishou import KuaishouDouble

KEY = b"x" * 43 + b"="  # a Fernet key: 32 bytes, url-safe base64
ITEM, KS_SKU, DY_SKU = "1001", "2001", "3001"


@dataclass
class Stores:
    runtime: Runtime
    shop: int
    sku: int
    ks: KuaishouDouble
    dy: DouyinDouble
    ks_channel: int
    dy_channel: int

    def worker(self) -> ChannelWorker:
        return ChannelWorker(self.runtime, KEY, lag=timedelta(0), reconcile_every=3600)

    def sync(self, rounds: int = 2) -> None:
        worker = self.worker()
        try:
            for _ in range(rounds):
                worker.run_round()
        finally:
            worker.close()

    def pool(self) -> dict[Tier, int]:
        with self.runtime.uow(readonly=True) as uow:
            return {t: s.available for t, s in uow.stock.tiers([self.sku])[self.sku].items()}


@pytest.fixture()
def stores(_engines: Runtime) -> Iterator[Stores]:
    runtime = Runtime(_engines.engine, lambda: datetime.now(UTC), secret_source=lambda: KEY)
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "live", spot=10, presale=5)
    with KuaishouDouble() as ks, DouyinDouble() as dy:
        ks.set_stock(ITEM, KS_SKU, 0)
        dy.set_stock(ITEM, DY_SKU, 0)
        ks_channel = setup.add_channel(
            setup.AddChannel(
                shop,
                "kuaishou",
                "快手旗舰店",
                {
                    "app_key": ks.app_key,
                    "sign_secret": ks.sign_secret,
                    "access_token": ks.access_token,
                },
                server_url=ks.url,
            ),
            runtime.uow(),
            KEY,
        )
        dy_channel = setup.add_channel(
            setup.AddChannel(
                shop,
                "douyin",
                "抖店",
                {
                    "app_key": dy_double.DEFAULT_APP_KEY,
                    "app_secret": dy_double.DEFAULT_APP_SECRET,
                    "access_token": dy_double.DEFAULT_ACCESS_TOKEN,
                },
                server_url=dy.url,
            ),
            runtime.uow(),
            KEY,
        )
        for channel, ref in ((ks_channel, KS_SKU), (dy_channel, DY_SKU)):
            setup.link_sku(setup.LinkSku(shop, channel.id, sku, ITEM, ref), runtime.uow())
        yield Stores(runtime, shop, sku, ks, dy, ks_channel.id, dy_channel.id)


def test_every_store_shows_the_pool_and_converges_after_each_sale(stores: Stores) -> None:
    stores.sync(1)
    assert stores.ks.stock_of(ITEM, KS_SKU) == 15 and stores.dy.stock_of(ITEM, DY_SKU) == 15
    promised = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=24)
    stores.ks.add_order(ITEM, KS_SKU, 4, unit_price_fen=9_900, promise_ship_by=promised)
    stores.sync()
    assert stores.pool() == {Tier.SPOT: 6, Tier.PRESALE: 5}
    assert stores.ks.stock_of(ITEM, KS_SKU) == 11 and stores.dy.stock_of(ITEM, DY_SKU) == 11
    with stores.runtime.uow(readonly=True) as uow:
        (line,) = uow.orders.lines_of_sku(stores.sku)
    assert line.ship_by == promised  # the platform's promise is the line's deadline
    assert verify_ledger(stores.runtime.uow(readonly=True), stores.shop)[1] == []


def test_a_live_lock_gives_the_live_store_all_spot_units(stores: Stores) -> None:
    setup.live_lock(
        setup.LiveLock(stores.shop, stores.ks_channel, (stores.sku,)), stores.runtime.uow()
    )
    stores.sync(1)
    assert stores.ks.stock_of(ITEM, KS_SKU) == 15  # 10 spot + 5 presale
    assert stores.dy.stock_of(ITEM, DY_SKU) == 5  # presale only
    setup.live_lock(setup.LiveLock(stores.shop, None), stores.runtime.uow())
    stores.sync(1)
    assert stores.dy.stock_of(ITEM, DY_SKU) == 15


def test_two_stores_selling_the_last_units_in_the_lag_make_an_incident_not_negative_stock(
    stores: Stores,
) -> None:
    stores.sync(1)
    stores.ks.add_order(ITEM, KS_SKU, 10, unit_price_fen=10_000)  # both stores see 15 …
    dy_order = stores.dy.add_order("9001", ITEM, DY_SKU, 8, 80_000, paid_at=datetime.now(UTC))
    stores.sync()
    assert stores.pool() == {Tier.SPOT: 0, Tier.PRESALE: 5}  # 10 sold; 8 could not be covered
    (incident,) = incidents_of(stores.shop, stores.runtime.uow(), open_only=True)
    assert (incident.platform_order_id, incident.quantity) == (dy_order["order_id"], 8)
    assert incident.exposure_fen == 20_000  # 30 % of ¥800, capped at ¥200 (Kuaishou pack)
    assert stores.ks.stock_of(ITEM, KS_SKU) == 5 and stores.dy.stock_of(ITEM, DY_SKU) == 5
    status = {s.channel.name: s for s in channel_status(stores.shop, stores.runtime.uow())}
    assert status["抖店"].open_incidents == 1 and status["抖店"].exposure_fen == 20_000
    assert verify_ledger(stores.runtime.uow(readonly=True), stores.shop)[1] == []


def test_a_cancel_delivered_twice_releases_its_units_once(stores: Stores) -> None:
    stores.sync(1)
    oid = stores.ks.add_order(ITEM, KS_SKU, 3)
    stores.sync()
    stores.ks.faults.duplicate_orders = True
    stores.ks.cancel_order(oid)
    stores.sync(3)
    assert stores.pool() == {Tier.SPOT: 10, Tier.PRESALE: 5}
    assert verify_ledger(stores.runtime.uow(readonly=True), stores.shop)[1] == []


def test_a_new_worker_reading_everything_again_doubles_nothing(stores: Stores) -> None:
    stores.sync(1)
    for _ in range(3):
        stores.ks.add_order(ITEM, KS_SKU, 1)
    stores.sync()
    with stores.runtime.uow() as uow:  # forget the cursor: the next worker rereads all
        uow.channels.save_cursor(
            stores.shop,
            SyncCursor(stores.ks_channel, datetime.now(UTC) - timedelta(days=1), None, None),
            uow.now(),
        )
        uow.commit()
    stores.ks.faults.fail_next = 1  # and the platform fails once on the way
    stores.sync(3)
    assert stores.pool() == {Tier.SPOT: 7, Tier.PRESALE: 5}


def test_no_credential_reaches_a_log_line_or_the_status(
    stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stores.ks.faults.fail_next = 2
    stores.sync(2)
    secrets = [stores.ks.sign_secret, stores.ks.access_token, dy_double.DEFAULT_APP_SECRET]
    secrets.append(dy_double.DEFAULT_ACCESS_TOKEN)
    text = caplog.text + repr(channel_status(stores.shop, stores.runtime.uow()))
    assert caplog.text  # the calls were logged …
    assert not [s for s in secrets if s in text]  # … without a secret
    with stores.runtime.uow(readonly=True) as uow:
        sealed = uow.channels.account(stores.ks_channel)[2]
    assert sealed and stores.ks.sign_secret not in sealed  # encrypted at rest
