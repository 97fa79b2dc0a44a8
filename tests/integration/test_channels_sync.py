"""The platforms misbehave and the channel worker loses and doubles nothing (both databases).

A Kuaishou and a Douyin store (loopback doubles, reached through the real clients) sell
one pool while the doubles answer 5xx, hang past the client's timeout, deliver every
order twice, or apply a stock change and then answer 5xx. After each, the worker runs
until every store shows its quota, and the audit (:func:`assert_exactly_once`, also used
by tests/e2e/test_channels_crash.py) checks against the stores themselves: every
platform order recorded once and placed once, the units sold equal to the units the
buyers paid for, the ledger equal to the stock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from tests.integration.test_burst import listed_sku, open_shop
from tierstock.domain.channels import Channel, Platform, SyncCursor
from tierstock.platforms.base import PlatformClient
from tierstock.platforms.douyin import DouyinClient
from tierstock.platforms.kuaishou import KuaishouClient
from tierstock.services.channels import clients as channel_clients
from tierstock.services.channels import setup
from tierstock.services.channels.quotas import figures
from tierstock.services.channels.worker import ChannelWorker, RoundReport
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger
from tierstock.testing.platforms import douyin as dy_double
from tierstock.testing.platforms.base import PlatformDouble
from tierstock.testing.platforms.douyin import DouyinDouble
from tierstock.testing.platforms.kuaishou import KuaishouDouble

KEY = b"y" * 43 + b"="  # a Fernet key: 32 bytes, url-safe base64
ITEM, KS_SKU, DY_SKU = "710001", "720001", "730001"  # ids no other test's stores use
CLIENT_TIMEOUT_S = 0.3
_douyin_ids = count(7_300_000_000_000_000)


# --- set-up shared with the crash test -------------------------------------------------------


def open_stores(
    runtime: Runtime, shop_id: int, ks: KuaishouDouble, dy: DouyinDouble
) -> tuple[Channel, Channel]:
    """A Kuaishou and a Douyin store of the shop on the doubles, reading orders from now."""
    ks_channel = setup.add_channel(
        setup.AddChannel(
            shop_id,
            "kuaishou",
            "快手店",
            {"app_key": ks.app_key, "sign_secret": ks.sign_secret, "access_token": ks.access_token},
            server_url=ks.url,
        ),
        runtime.uow(),
        KEY,
    )
    dy_channel = setup.add_channel(
        setup.AddChannel(
            shop_id,
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
    with runtime.uow() as uow:  # the stores open now: no day of empty windows to read
        for c in (ks_channel, dy_channel):
            since = uow.now() - timedelta(minutes=1)
            uow.channels.save_cursor(shop_id, SyncCursor(c.id, since, None, None), uow.now())
        uow.commit()
    return ks_channel, dy_channel


def link(
    runtime: Runtime, shop_id: int, channel: Channel, double: PlatformDouble, sku: int, ref: str
) -> None:
    """List the SKU on the platform (at 0 until the first push) and link it."""
    double.set_stock(ITEM, ref, 0)
    setup.link_sku(setup.LinkSku(shop_id, channel.id, sku, ITEM, ref), runtime.uow())


def ks_buy(ks: KuaishouDouble, ref: str, quantity: int = 1) -> str:
    return ks.add_order(ITEM, ref, quantity, unit_price_fen=9_900)


def dy_buy(dy: DouyinDouble, ref: str, quantity: int = 1) -> str:
    oid = str(next(_douyin_ids))
    dy.add_order(oid, ITEM, ref, quantity, 9_900 * quantity, paid_at=datetime.now(UTC))
    return oid


def platform_orders(double: PlatformDouble) -> dict[str, int]:
    """Every order on the platform: its id → the units its buyer paid for."""
    with double.lock:
        if isinstance(double, KuaishouDouble):
            return {
                str(o["orderBaseInfo"]["oid"]): int(o["orderItemInfo"]["num"])
                for o in double.state.orders
            }
        return {
            str(o["order_id"]): sum(int(ln["item_num"]) for ln in o["sku_order_list"])
            for o in double.state.orders
        }


Stores = Sequence[tuple[Channel, PlatformDouble]]


def settled(runtime: Runtime, shop_id: int, stores: Stores) -> bool:
    """Every platform order recorded, no push waiting (a retry included), and every
    store showing its quota."""
    doubles = {c.id: d for c, d in stores}
    with runtime.uow(readonly=True) as uow:
        if uow.channels.queue_depth(shop_id):
            return False
        for channel, double in stores:
            if uow.channels.platform_orders_count(channel.id) != len(platform_orders(double)):
                return False
        links = uow.channels.links(shop_id)
        wanted = figures(uow, links)
    return all(
        doubles[ln.channel_id].stock_of(ln.platform_item_id, ln.platform_sku_id) == wanted[ln.id]
        for ln in links
    )


def assert_exactly_once(
    runtime: Runtime, shop_id: int, sku_ids: Sequence[int], stores: Stores
) -> None:
    """Lost nothing, doubled nothing — read from the stores and the database."""
    referenced: list[int] = []
    paid_units = 0
    with runtime.uow(readonly=True) as uow:
        for channel, double in stores:
            on_platform = platform_orders(double)
            paid_units += sum(on_platform.values())
            assert uow.channels.platform_orders_count(channel.id) == len(on_platform)
            for pid in on_platform:
                known = uow.channels.platform_order(channel.id, pid)
                assert known is not None, f"{channel.name} order {pid} was never recorded"
                assert known[0] is not None, f"{channel.name} order {pid} became an incident"
                referenced.append(known[0])
        lines = [ln for sku in sku_ids for ln in uow.orders.lines_of_sku(sku)]
        assert uow.channels.incidents(shop_id) == []
        tiers = uow.stock.tiers(sku_ids)
    assert len(referenced) == len(set(referenced)), "two platform orders share an order"
    assert {ln.order_id for ln in lines} == set(referenced), "an order was placed twice"
    assert sum(ln.quantity for ln in lines) == paid_units
    assert sum(t.sold for by_tier in tiers.values() for t in by_tier.values()) == paid_units
    assert all(t.available >= 0 for by_tier in tiers.values() for t in by_tier.values())
    assert verify_ledger(runtime.uow(readonly=True), shop_id)[1] == []


# --- the stores of these tests --------------------------------------------------------------


@dataclass
class Shop:
    runtime: Runtime
    shop: int
    sku: int
    ks: KuaishouDouble
    dy: DouyinDouble
    stores: list[tuple[Channel, PlatformDouble]]
    reports: list[RoundReport] = field(default_factory=list)

    def settle(self, seconds: float = 15.0) -> None:
        """Run worker rounds until every store shows its quota (a failed call waits its
        backoff, 1 s the first time)."""
        worker = ChannelWorker(self.runtime, KEY, lag=timedelta(0), reconcile_every=3600)
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.reports.append(worker.run_round())
                if settled(self.runtime, self.shop, self.stores):
                    return
                assert time.monotonic() < deadline, "the stores did not converge"
                time.sleep(0.1)
        finally:
            worker.close()

    def round(self) -> None:
        worker = ChannelWorker(self.runtime, KEY, lag=timedelta(0), reconcile_every=3600)
        try:
            self.reports.append(worker.run_round())
        finally:
            worker.close()

    def errors(self) -> list[str]:
        return [e for r in self.reports for e in (*r.errors, *r.pushes.errors)]

    def check(self) -> None:
        assert_exactly_once(self.runtime, self.shop, [self.sku], self.stores)


@pytest.fixture()
def shop(_engines: Runtime) -> Iterator[Shop]:
    runtime = Runtime(_engines.engine, lambda: datetime.now(UTC), secret_source=lambda: KEY)
    shop_id = open_shop(runtime)
    sku = listed_sku(runtime, shop_id, "faults", spot=60, presale=60)
    with KuaishouDouble() as ks, DouyinDouble() as dy:
        ks_channel, dy_channel = open_stores(runtime, shop_id, ks, dy)
        link(runtime, shop_id, ks_channel, ks, sku, KS_SKU)
        link(runtime, shop_id, dy_channel, dy, sku, DY_SKU)
        stores: list[tuple[Channel, PlatformDouble]] = [(ks_channel, ks), (dy_channel, dy)]
        found = Shop(runtime, shop_id, sku, ks, dy, stores)
        found.settle()  # both stores show the pool before the faults begin
        yield found


def buy(shop: Shop, ks_orders: int, dy_orders: int) -> None:
    for _ in range(ks_orders):
        ks_buy(shop.ks, KS_SKU)
    for _ in range(dy_orders):
        dy_buy(shop.dy, DY_SKU, 2)


# --- the faults ------------------------------------------------------------------------------


def test_5xx_answers_lose_and_double_nothing(shop: Shop) -> None:
    buy(shop, 12, 6)
    shop.ks.faults.fail_next = 3  # the order lists
    shop.dy.faults.fail_next = 3
    shop.settle()
    buy(shop, 5, 3)
    shop.round()  # reads the new orders: their pushes are due next round
    shop.ks.faults.fail_next = 2  # the pushes
    shop.dy.faults.fail_next = 2
    shop.settle()
    failed = [e for e in shop.errors() if "HTTP 503" in e]
    assert any("order" in e for e in failed) and any("sku" in e for e in failed)
    shop.check()  # the faults were met, and cost nothing


@pytest.fixture()
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients that give up after CLIENT_TIMEOUT_S (the worker's are built by
    ``clients.build`` with the platforms' 10 s)."""

    def build(platform: Platform, values: dict[str, str], server_url: str | None) -> PlatformClient:
        assert server_url is not None
        if platform is Platform.KUAISHOU:
            return KuaishouClient(
                app_key=values["app_key"],
                sign_secret=values["sign_secret"],
                access_token=values["access_token"],
                server_url=server_url,
                timeout_s=CLIENT_TIMEOUT_S,
            )
        assert platform is Platform.DOUYIN
        return DouyinClient(
            app_key=values["app_key"],
            app_secret=values["app_secret"],
            access_token=values["access_token"],
            server_url=server_url,
            timeout_s=CLIENT_TIMEOUT_S,
        )

    monkeypatch.setattr(channel_clients, "build", build)


@pytest.mark.usefixtures("short_timeouts")
def test_calls_that_time_out_lose_and_double_nothing(shop: Shop) -> None:
    for double in (shop.ks, shop.dy):
        double.faults.hang_s = 1.0  # answers after the client gave up
    buy(shop, 10, 5)
    shop.ks.faults.hang_next = 2  # the next order list, or the push's read
    shop.dy.faults.hang_next = 1
    shop.settle()
    buy(shop, 4, 4)
    shop.round()  # reads the new orders: their pushes are due next round
    shop.ks.faults.hang_next = 1  # so the pushes' first calls hang
    shop.dy.faults.hang_next = 1
    shop.settle()
    timeouts = [e for e in shop.errors() if "in time" in e or "timed out" in e]
    assert any("order" in e for e in timeouts) and any("sku" in e for e in timeouts)
    shop.check()


def test_orders_delivered_twice_are_recorded_and_placed_once(shop: Shop) -> None:
    shop.ks.faults.duplicate_orders = True  # every order on two pages
    shop.dy.faults.duplicate_orders = True
    buy(shop, 60, 20)  # more than a page on each platform
    shop.settle()
    seen = sum(r.seen for rep in shop.reports for r in rep.orders.values())
    assert seen >= 2 * 80  # each delivered (at least) twice …
    shop.check()  # … each recorded once


def test_a_stock_change_applied_then_failed_is_not_applied_twice(shop: Shop) -> None:
    shop.ks.faults.apply_then_fail_next = 1  # Kuaishou's delta lands, then 503
    shop.dy.faults.apply_then_fail_next = 1  # Douyin's absolute set lands, then 500
    buy(shop, 7, 4)
    shop.settle()
    assert len([e for e in shop.errors() if "HTTP 50" in e]) >= 2
    shop.check()
    pool = {t.value: s.available for t, s in _tiers(shop).items()}
    assert pool == {"spot": 60 - 7 - 8, "presale": 60}
    assert shop.ks.stock_of(ITEM, KS_SKU) == 120 - 15 == shop.dy.stock_of(ITEM, DY_SKU)


def _tiers(shop: Shop) -> dict[Any, Any]:
    with shop.runtime.uow(readonly=True) as uow:
        return uow.stock.tiers([shop.sku])[shop.sku]
