"""`tierstock demo --channels`: one pool sold in two stores through a live burst.

Two simulated stores — a Kuaishou and a Douyin double of the platforms' open APIs
(testing/platforms/), started in this process on loopback and reached through the real
clients — sell one tiered SKU's pool while a :class:`ChannelWorker` runs alongside.
Buyers arrive at an even pace over ``burst_seconds``, each at one store, and pay for as
many units as *that store shows*: a buyer the store shows too few units to is refused by
the platform, one it shows enough to pays — whether the pool still has the units or
not, which is what the quota rules (domain/channels.py) are there to bound.

When the last buyer has paid, the run waits until every store shows its quota (every
platform order recorded, each store's figure equal to the quota computed from the
pool) and reports, per store, what its buyers paid for, what the pool covered, the
pushes the store received and the oversell incidents with their exposure — all read
back from the database and the stores, not from what the buyers were told — plus the
checks that must never fail: the ledger matches the stock, no tier is negative, each
platform order is recorded once and placed at most once.

The worker syncs *every* store of its database, so a run wants a database of its own
(:func:`throwaway_database`); bench/channels.py runs it under each quota rule.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from tierstock.domain.channels import Channel, Link, SyncCursor
from tierstock.domain.sales_forms import Tier
from tierstock.services.channels import setup
from tierstock.services.channels.orders_in import LAG
from tierstock.services.channels.quotas import figures
from tierstock.services.channels.worker import ChannelWorker
from tierstock.services.demo import BurstPlan, seed_tiered_sku
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger
from tierstock.testing.platforms import douyin as dy_double
from tierstock.testing.platforms.base import PlatformDouble
from tierstock.testing.platforms.douyin import DouyinDouble
from tierstock.testing.platforms.kuaishou import STOCK_UPDATE, KuaishouDouble

ITEM = "100001"  # the product on both platforms (their ids are numbers)
KS_SKU = "200001"
DY_SKU = "300001"
PRICE_FEN = 29_900  # what the demo SKU sells for (services/demo.py)
PLATFORM_PROMISE = timedelta(hours=48)  # the ship-by the platforms promise the buyer
POLL_S = 0.05


@dataclass(frozen=True)
class ChannelsPlan:
    """One burst over two stores. The rules: ``safety`` units of each tier held back
    from both stores, ``shares`` (Kuaishou %, Douyin %) of the rest, ``live_lock`` the
    Kuaishou store's live session holding the spot tier; all off = full sync."""

    buyers: int = 600
    spot: int = 100
    presale: int = 200
    max_quantity: int = 1  # each buyer wants 1..max_quantity units
    kuaishou_pct: int = 50  # share of the buyers arriving at the Kuaishou store
    burst_seconds: float = 6.0  # the buyers arrive evenly over this
    safety: int = 5
    shares: tuple[int, int] | None = None
    live_lock: bool = True
    latency_s: float = 0.05  # each platform call's latency on the doubles
    lag: timedelta = LAG  # the worker's order-window lag (orders_in.LAG)
    interval_s: float = 0.2  # the worker's idle pause (ChannelWorker.follow)
    settle_s: float = 90.0  # give up waiting for the stores after this
    seed: int = 7

    def rule(self) -> str:
        """The rules in words, for a report's title."""
        parts = []
        if self.live_lock:
            parts.append("live lock on Kuaishou (spot tier)")
        if self.shares:
            parts.append(f"share {self.shares[0]}/{self.shares[1]}")
        if self.safety:
            parts.append(f"safety stock {self.safety}")
        return ", ".join(parts) or "no rule (full sync)"


@dataclass(frozen=True)
class StoreResult:
    name: str
    platform: str
    buyers: int  # buyers who came to this store
    refused: int  # … whom the store showed too few units (refused by the platform)
    orders: int  # platform orders paid
    units_paid: int  # units the buyers paid for on the platform
    units_placed: int  # of those, units the pool covered (tierstock orders)
    recorded: int  # platform orders tierstock recorded (channel_orders rows)
    pushes: int  # stock-changing calls the store received from the burst's start
    incidents: int
    incident_units: int  # units paid for that the pool could not cover: oversold
    exposure_fen: int  # what those incidents may cost (the pack's compensation)
    figure: int  # what the store shows at the end
    quota: int  # what it should show (its quota of the pool at the end)


@dataclass(frozen=True)
class ChannelsReport:
    plan: ChannelsPlan
    shop_id: int
    sku_id: int
    stores: list[StoreResult]
    pool_before: dict[Tier, int]
    pool_after: dict[Tier, int]
    ready_s: float  # from the worker's start until both stores showed their quota
    burst_s: float  # the burst as it ran
    converged_s: float | None  # from the burst's end until every store showed its quota
    ledger_ok: bool
    negative_tiers: list[str]
    recorded_twice: int  # platform orders with more than one record
    unrecorded: int  # platform orders with none at the end
    placed_twice: int  # tierstock orders of the SKU beyond one per recorded order
    worker_errors: list[str] = field(default_factory=list)

    @property
    def oversold_units(self) -> int:
        return sum(s.incident_units for s in self.stores)

    @property
    def problems(self) -> list[str]:
        """The broken invariants (empty: the run kept every promise)."""
        out = []
        if not self.ledger_ok:
            out.append("the ledger does not match the stock")
        if self.negative_tiers:
            out.append("negative stock: " + ", ".join(self.negative_tiers))
        if self.recorded_twice or self.placed_twice:
            out.append(
                f"platform orders recorded twice: {self.recorded_twice}, "
                f"placed twice: {self.placed_twice}"
            )
        if self.unrecorded:
            out.append(f"{self.unrecorded} platform orders never recorded")
        if self.converged_s is None:
            out.append(f"the stores did not show their quotas within {self.plan.settle_s:.0f} s")
        elif any(s.figure != s.quota for s in self.stores):
            out.append("a store ended on a figure other than its quota")
        return out


@contextmanager
def throwaway_database() -> Iterator[Runtime]:
    """A runtime on a new SQLite file, deleted afterwards (the worker syncs every store
    of its database: the demo's own stores must be the only ones)."""
    folder = tempfile.mkdtemp(prefix="tierstock-channels-demo-")
    runtime = Runtime.open(f"sqlite:///{Path(folder) / 'channels-demo.db'}")
    try:
        yield runtime
    finally:
        runtime.close()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class _Store:
    channel: Channel
    double: PlatformDouble
    sku_ref: str
    push_api: str
    buyers: int = 0
    refused: int = 0
    orders: int = 0
    units: int = 0
    pushes_before: int = 0


def run_channels_demo(
    runtime: Runtime,
    plan: ChannelsPlan,
    *,
    on_buyer: Callable[[], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> ChannelsReport:
    """Seed the SKU, open both stores, run the burst with a worker alongside, report."""
    key = runtime.secret_key() or Fernet.generate_key()
    say = on_phase or (lambda _text: None)
    capture = _Capture()
    logging.getLogger("tierstock.channels").addHandler(capture)
    try:
        with KuaishouDouble() as ks, DouyinDouble() as dy:
            for double in (ks, dy):
                double.faults.latency_s = plan.latency_s
            shop_id, sku_id = seed_tiered_sku(
                runtime, BurstPlan(spot=plan.spot, presale=plan.presale, seed=plan.seed)
            )
            stores = _open_stores(runtime, plan, key, shop_id, sku_id, ks, dy)
            pool_before = _pool(runtime, sku_id)
            worker = ChannelWorker(runtime, key, lag=plan.lag)
            thread = threading.Thread(
                target=_follow, args=(worker, plan.interval_s, capture), name="channel-worker"
            )
            started = time.monotonic()
            thread.start()
            try:
                say("the worker pushes each store its quota")
                if _wait_converged(runtime, shop_id, stores, started + plan.settle_s) is None:
                    raise RuntimeError("the stores never showed their first quotas")
                ready_s = time.monotonic() - started
                for store in stores:
                    store.pushes_before = store.double.state.calls[store.push_api]
                say(f"{plan.buyers} buyers arrive over {plan.burst_seconds:g} s")
                burst_s = _burst(plan, stores, on_buyer)
                say("waiting for every store to show its quota")
                ended = time.monotonic()
                converged = _wait_converged(runtime, shop_id, stores, ended + plan.settle_s)
                converged_s = None if converged is None else converged - ended
            finally:
                worker.stop()
                thread.join(timeout=60)
                worker.close()
            report = _report(
                runtime, plan, shop_id, sku_id, stores, pool_before, ready_s, burst_s, converged_s
            )
    finally:
        logging.getLogger("tierstock.channels").removeHandler(capture)
    return dataclasses.replace(report, worker_errors=capture.problems)


class _Capture(logging.Handler):
    """The worker's warnings during the run (kept for the report, not printed over it);
    oversell incidents are logged too, and reported as incidents."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.problems: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if not text.startswith("oversell incident"):
            self.problems.append(text)


def _follow(worker: ChannelWorker, interval: float, capture: _Capture) -> None:
    try:
        worker.follow(interval)
    except Exception as exc:  # follow() retries a failed round itself; this is the rest
        capture.problems.append(f"the worker stopped: {type(exc).__name__}: {exc}")


def _open_stores(
    runtime: Runtime,
    plan: ChannelsPlan,
    key: bytes,
    shop_id: int,
    sku_id: int,
    ks: KuaishouDouble,
    dy: DouyinDouble,
) -> list[_Store]:
    ks.set_stock(ITEM, KS_SKU, 0)  # listed on both platforms, at 0 until the first push
    dy.set_stock(ITEM, DY_SKU, 0)
    ks_channel = setup.add_channel(
        setup.AddChannel(
            shop_id,
            "kuaishou",
            "快手直播间 (demo)",
            {"app_key": ks.app_key, "sign_secret": ks.sign_secret, "access_token": ks.access_token},
            server_url=ks.url,
            actor="demo",
        ),
        runtime.uow(),
        key,
    )
    dy_channel = setup.add_channel(
        setup.AddChannel(
            shop_id,
            "douyin",
            "抖店 (demo)",
            {
                "app_key": dy_double.DEFAULT_APP_KEY,
                "app_secret": dy_double.DEFAULT_APP_SECRET,
                "access_token": dy_double.DEFAULT_ACCESS_TOKEN,
            },
            server_url=dy.url,
            actor="demo",
        ),
        runtime.uow(),
        key,
    )
    stores = [
        _Store(ks_channel, ks, KS_SKU, STOCK_UPDATE),
        _Store(dy_channel, dy, DY_SKU, "sku.syncStock"),
    ]
    for store in stores:
        setup.link_sku(
            setup.LinkSku(shop_id, store.channel.id, sku_id, ITEM, store.sku_ref, "demo"),
            runtime.uow(),
        )
    if plan.shares:
        for store, pct in zip(stores, plan.shares, strict=True):
            setup.set_rule(
                setup.SetRule(shop_id, sku_id, store.channel.id, "share", pct, "demo"),
                runtime.uow(),
            )
    if plan.safety:
        setup.set_safety(setup.SetSafety(shop_id, sku_id, plan.safety, "demo"), runtime.uow())
    if plan.live_lock:
        setup.live_lock(setup.LiveLock(shop_id, ks_channel.id, (sku_id,), "demo"), runtime.uow())
    # The stores opened just now: their order lists start here, not a day back.
    with runtime.uow() as uow:
        for store in stores:
            uow.channels.save_cursor(
                shop_id, SyncCursor(store.channel.id, uow.now(), None, None), uow.now()
            )
        uow.commit()
    return stores


def _burst(plan: ChannelsPlan, stores: list[_Store], on_buyer: Callable[[], None] | None) -> float:
    """Buyers arrive evenly over ``burst_seconds``; each pays at one store if it shows
    enough units (the platform refuses the buyer otherwise)."""
    rng = random.Random(plan.seed)
    ks, dy = stores
    gap = plan.burst_seconds / max(plan.buyers, 1)
    started = time.monotonic()
    for i in range(plan.buyers):
        pause = started + i * gap - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        store = ks if rng.randrange(100) < plan.kuaishou_pct else dy
        quantity = rng.randint(1, plan.max_quantity)
        store.buyers += 1
        now = datetime.now(UTC)
        try:
            if isinstance(store.double, KuaishouDouble):
                store.double.add_order(
                    ITEM,
                    KS_SKU,
                    quantity,
                    unit_price_fen=PRICE_FEN,
                    promise_ship_by=now + PLATFORM_PROMISE,
                    buyer=f"ks-buyer-{i}",
                )
            else:
                assert isinstance(store.double, DouyinDouble)
                store.double.add_order(
                    str(6_900_000_000_000_000 + i),
                    ITEM,
                    DY_SKU,
                    quantity,
                    quantity * PRICE_FEN,
                    paid_at=now,
                    exp_ship_time=now + PLATFORM_PROMISE,
                    buyer=f"dy-buyer-{i}",
                )
        except ValueError:  # the store showed fewer units: the platform said sold out
            store.refused += 1
        else:
            store.orders += 1
            store.units += quantity
        if on_buyer is not None:
            on_buyer()
    return time.monotonic() - started


def _links(runtime: Runtime, shop_id: int) -> tuple[list[Link], dict[int, int]]:
    with runtime.uow(readonly=True) as uow:
        links = uow.channels.links(shop_id)
        return links, figures(uow, links)


def _converged(runtime: Runtime, shop_id: int, stores: list[_Store]) -> bool:
    """Every platform order recorded and every store showing its quota of the pool."""
    with runtime.uow(readonly=True) as uow:
        for store in stores:
            with store.double.lock:
                on_platform = len(store.double.state.orders)
            if uow.channels.platform_orders_count(store.channel.id) != on_platform:
                return False
    links, wanted = _links(runtime, shop_id)
    by_channel = {s.channel.id: s for s in stores}
    for link in links:
        store = by_channel[link.channel_id]
        if store.double.stock_of(link.platform_item_id, link.platform_sku_id) != wanted[link.id]:
            return False
    return True


def _wait_converged(
    runtime: Runtime, shop_id: int, stores: list[_Store], deadline: float
) -> float | None:
    """The monotonic time at which every store first showed its quota (None: never)."""
    while time.monotonic() < deadline:
        if _converged(runtime, shop_id, stores):
            return time.monotonic()
        time.sleep(POLL_S)
    return None


def _pool(runtime: Runtime, sku_id: int) -> dict[Tier, int]:
    with runtime.uow(readonly=True) as uow:
        return {t: s.available for t, s in uow.stock.tiers([sku_id])[sku_id].items()}


def _platform_order_ids(double: PlatformDouble) -> list[str]:
    with double.lock:
        if isinstance(double, KuaishouDouble):
            return [str(o["orderBaseInfo"]["oid"]) for o in double.state.orders]
        return [str(o["order_id"]) for o in double.state.orders]


def _report(
    runtime: Runtime,
    plan: ChannelsPlan,
    shop_id: int,
    sku_id: int,
    stores: list[_Store],
    pool_before: dict[Tier, int],
    ready_s: float,
    burst_s: float,
    converged_s: float | None,
) -> ChannelsReport:
    links, wanted = _links(runtime, shop_id)
    link_of = {ln.channel_id: ln for ln in links}
    recorded_twice = unrecorded = 0
    referenced: list[int] = []
    results = []
    with runtime.uow(readonly=True) as uow:
        incidents = uow.channels.incidents(shop_id)
        tiers = uow.stock.tiers([sku_id])[sku_id]
        lines = uow.orders.lines_of_sku(sku_id)
        placed_units: dict[int, int] = {}
        for ln in lines:
            placed_units[ln.order_id] = placed_units.get(ln.order_id, 0) + ln.quantity
        for store in stores:
            ids = _platform_order_ids(store.double)
            recorded = uow.channels.platform_orders_count(store.channel.id)
            recorded_twice += max(0, recorded - len(set(ids)))
            covered = 0
            for pid in ids:
                known = uow.channels.platform_order(store.channel.id, pid)
                if known is None:
                    unrecorded += 1
                elif known[0] is not None:
                    referenced.append(known[0])
                    covered += placed_units.get(known[0], 0)
            mine = [i for i in incidents if i.channel_id == store.channel.id]
            link = link_of[store.channel.id]
            results.append(
                StoreResult(
                    name=store.channel.name,
                    platform=store.channel.platform.value,
                    buyers=store.buyers,
                    refused=store.refused,
                    orders=store.orders,
                    units_paid=store.units,
                    units_placed=covered,
                    recorded=recorded,
                    pushes=store.double.state.calls[store.push_api] - store.pushes_before,
                    incidents=len(mine),
                    incident_units=sum(i.quantity for i in mine),
                    exposure_fen=sum(i.exposure_fen for i in mine),
                    figure=store.double.stock_of(link.platform_item_id, link.platform_sku_id),
                    quota=wanted[link.id],
                )
            )
    orders_of_sku = set(placed_units)
    placed_twice = (len(referenced) - len(set(referenced))) + len(orders_of_sku - set(referenced))
    _, mismatches = verify_ledger(runtime.uow(readonly=True), shop_id)
    return ChannelsReport(
        plan=plan,
        shop_id=shop_id,
        sku_id=sku_id,
        stores=results,
        pool_before=pool_before,
        pool_after={t: s.available for t, s in tiers.items()},
        ready_s=ready_s,
        burst_s=burst_s,
        converged_s=converged_s,
        ledger_ok=not mismatches,
        negative_tiers=[
            f"{t.value} {s.available}" for t, s in tiers.items() if s.available < 0 or s.sold < 0
        ],
        recorded_twice=recorded_twice,
        unrecorded=unrecorded,
        placed_twice=placed_twice,
    )
