"""One pool, several stores (issue #12): overselling in the sync lag, order intake, and
a push storm — measured and printed, never asserted.

    .venv/bin/python -m bench.channels                    # default run, ~10 min on 2 cores
    .venv/bin/python -m bench.channels --quick            # smoke run, ~2 min
    .venv/bin/python -m bench.channels --parts burst --backends sqlite

Every store is a loopback double of its platform's open API (testing/platforms/), run in
this process and reached through the real clients; the channel worker is the real
``ChannelWorker`` in a thread. Each scenario gets a database of its own (a worker syncs
every store of its database):

1. burst — 2,000 buyers split between a Kuaishou and a Douyin store over 10 s, 200 ms on
   every platform call, under each rule: no rule (full sync), share 50/50, safety stock,
   live lock (services/channels/demo.py runs it). Reported: units paid, units the pool
   covered, units oversold (= the incidents' units) and their exposure, pushes, and the
   time from the burst's end until every store shows its quota.
2. sync — platform orders ingested per second from a Kuaishou double holding 5,000 paid
   orders: the first read (each order placed) and a second read of the same window
   (each order already known: what every round pays for its 2-minute overlap).
3. storm — a change touching N SKUs at once (one transaction, as a count approval),
   each SKU linked in both stores, with the platform's call limit set on the doubles
   and the store's pack rate in the relay, while buyers keep paying for a live-locked
   SKU on the Kuaishou store. Reported: how fast the pushes arrive in the queue, how
   fast they drain, the 50,000-SKU projection, and the live SKU's convergence time
   (one buyer, then until both stores show its quota) before and during the storm.

Exit status: 1 if a run broke an invariant (ledger ≠ stock, a negative tier, a
platform order recorded or placed twice); the figures themselves are never judged.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet
from rich.console import Console
from rich.table import Table

from bench.common import RESULTS, Backend, machine_info, pg_available, pg_backend, seed_shop
from bench.common import sqlite_backend as _sqlite_backend
from tierstock.domain.channels import Channel, Link, SyncCursor
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.sales_forms import Tier
from tierstock.policies import load_pack
from tierstock.services.channels import setup
from tierstock.services.channels.clients import Clients
from tierstock.services.channels.demo import ChannelsPlan, ChannelsReport, run_channels_demo
from tierstock.services.channels.orders_in import sync_orders
from tierstock.services.channels.quotas import figures
from tierstock.services.channels.worker import ChannelWorker
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger
from tierstock.testing.platforms import douyin as dy_double
from tierstock.testing.platforms.base import PlatformDouble
from tierstock.testing.platforms.douyin import DouyinDouble
from tierstock.testing.platforms.kuaishou import KuaishouDouble

KEY = Fernet.generate_key()


@dataclass(frozen=True)
class Config:
    buyers: int = 2_000
    burst_seconds: float = 10.0
    spot: int = 300
    presale: int = 300
    latency_s: float = 0.2
    safety: int = 50
    sync_orders: int = 5_000
    storm_skus: int = 1_000
    storm_latency_s: float = 0.05
    platform_limit: float = 50.0  # calls a second the doubles admit (the platform's limit)
    storm_seconds: float = 75.0  # how long the storm may drain before it is cut
    live_every_s: float = 2.0  # a live-SKU buyer this often during the storm
    quick: bool = False


QUICK = Config(
    buyers=400,
    burst_seconds=4.0,
    spot=60,
    presale=60,
    safety=10,
    sync_orders=1_000,
    storm_skus=150,
    storm_seconds=30.0,
)

RULES: dict[str, dict[str, Any]] = {
    "no rule (full sync)": {"safety": 0, "live_lock": False, "shares": None},
    "share 50/50": {"safety": 0, "live_lock": False, "shares": (50, 50)},
    "safety stock": {"live_lock": False, "shares": None},  # safety from the config
    "live lock (Kuaishou)": {"safety": 0, "live_lock": True, "shares": None},
}


# --- databases: one per scenario ---------------------------------------------------------


@contextmanager
def fresh_runtime(backend: str) -> Iterator[Runtime]:
    """A runtime on a new database of this kind, thrown away afterwards."""
    make: Callable[[], AbstractContextManager[Backend]] = (
        _sqlite_backend if backend == "sqlite" else pg_backend
    )
    with make() as db:
        runtime = Runtime.open(db.url)
        runtime.secret_source = lambda: KEY
        try:
            yield runtime
        finally:
            runtime.close()


# --- 1. the burst under each rule -----------------------------------------------------------


def bench_burst(backend: str, cfg: Config, console: Console) -> list[dict[str, Any]]:
    rows = []
    for name, rule in RULES.items():
        plan = ChannelsPlan(
            buyers=cfg.buyers,
            spot=cfg.spot,
            presale=cfg.presale,
            burst_seconds=cfg.burst_seconds,
            latency_s=cfg.latency_s,
            settle_s=180.0,
            **{"safety": cfg.safety, **rule},
        )
        with fresh_runtime(backend) as runtime:
            report = run_channels_demo(runtime, plan)
        row = _burst_row(backend, name, report)
        rows.append(row)
        conv = row["converged_s"]
        console.log(
            f"{backend:10} burst {name:22} paid {row['units_paid']:5} "
            f"covered {row['units_covered']:4} oversold {row['oversold_units']:4} "
            f"pushes {row['pushes']:3} converged "
            + (f"{conv:.1f} s" if conv is not None else "never")
            + (f"  [red]{'; '.join(report.problems)}[/]" if report.problems else ""),
            highlight=False,
        )
    return rows


def _burst_row(backend: str, name: str, r: ChannelsReport) -> dict[str, Any]:
    return {
        "backend": backend,
        "rule": name,
        "rule_detail": r.plan.rule(),
        "buyers": r.plan.buyers,
        "pool": sum(r.pool_before.values()),
        "refused": sum(s.refused for s in r.stores),
        "units_paid": sum(s.units_paid for s in r.stores),
        "units_covered": sum(s.units_placed for s in r.stores),
        "oversold_units": r.oversold_units,
        "exposure_fen": sum(s.exposure_fen for s in r.stores),
        "pushes": sum(s.pushes for s in r.stores),
        "burst_s": round(r.burst_s, 2),
        "converged_s": None if r.converged_s is None else round(r.converged_s, 2),
        "problems": r.problems,
        "worker_warnings": len(r.worker_errors),
        "first_warning": r.worker_errors[0] if r.worker_errors else None,
        "stores": [asdict(s) for s in r.stores],
    }


# --- shared set-up of the sync and storm scenarios -----------------------------------------


def _kuaishou_channel(runtime: Runtime, shop_id: int, ks: KuaishouDouble) -> Channel:
    creds = {"app_key": ks.app_key, "sign_secret": ks.sign_secret, "access_token": ks.access_token}
    return setup.add_channel(
        setup.AddChannel(shop_id, "kuaishou", "快手", creds, server_url=ks.url),
        runtime.uow(),
        KEY,
    )


def _douyin_channel(runtime: Runtime, shop_id: int, dy: DouyinDouble) -> Channel:
    creds = {
        "app_key": dy_double.DEFAULT_APP_KEY,
        "app_secret": dy_double.DEFAULT_APP_SECRET,
        "access_token": dy_double.DEFAULT_ACCESS_TOKEN,
    }
    return setup.add_channel(
        setup.AddChannel(shop_id, "douyin", "抖店", creds, server_url=dy.url),
        runtime.uow(),
        KEY,
    )


def _start_reading_now(runtime: Runtime, shop_id: int, channels: list[Channel]) -> None:
    with runtime.uow() as uow:
        for c in channels:
            uow.channels.save_cursor(
                shop_id, SyncCursor(c.id, uow.now() - timedelta(minutes=1), None, None), uow.now()
            )
        uow.commit()


# --- 2. order intake ------------------------------------------------------------------------


def bench_sync(backend: str, cfg: Config, console: Console) -> dict[str, Any]:
    n = cfg.sync_orders
    with fresh_runtime(backend) as runtime, KuaishouDouble() as ks:
        seeded = seed_shop(runtime, skus=1, spot=n, presale=n, label="sync")
        shop_id, sku_id = seeded.shop_id, seeded.sku_ids[0]
        ks.set_stock("100001", "200001", 2 * n)
        channel = _kuaishou_channel(runtime, shop_id, ks)
        setup.link_sku(
            setup.LinkSku(shop_id, channel.id, sku_id, "100001", "200001"), runtime.uow()
        )
        _start_reading_now(runtime, shop_id, [channel])
        for i in range(n):
            last = ks.add_order("100001", "200001", 1, unit_price_fen=29_900, buyer=f"b{i}")
        # The double gives each order a later update time than the one before (1 ms at
        # least): wait until the last one is in the past, so one read finds them all.
        changed_ms = ks.order(last)["orderBaseInfo"]["updateTime"]
        time.sleep(max(0.0, changed_ms / 1000 - time.time()) + 0.1)
        clients = Clients(runtime, KEY)
        client = clients.get(channel)
        try:
            t0 = time.perf_counter()
            first = sync_orders(runtime, channel, client, lag=timedelta(0))
            first_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = sync_orders(runtime, channel, client, lag=timedelta(0))
            again_s = time.perf_counter() - t0
        finally:
            clients.close()
        with runtime.uow(readonly=True) as uow:
            recorded = uow.channels.platform_orders_count(channel.id)
        _, mismatches = verify_ledger(runtime.uow(readonly=True), shop_id)
    row = {
        "backend": backend,
        "orders_on_platform": n,
        "pages": first.pages,
        "placed": first.placed,
        "first_read_s": round(first_s, 2),
        "placed_per_s": round(first.placed / first_s, 1),
        "reread_known": again.known,
        "reread_s": round(again_s, 2),
        "reread_per_s": round(again.seen / again_s, 1),
        "recorded": recorded,
        "ledger_ok": not mismatches,
    }
    console.log(
        f"{backend:10} sync  {n} orders: placed {row['placed_per_s']:,.0f}/s, "
        f"re-read (known) {row['reread_per_s']:,.0f}/s, recorded {recorded}",
        highlight=False,
    )
    return row


# --- 3. the push storm ----------------------------------------------------------------------


@dataclass
class _Counter:
    """Calls a double refused with its rate-limit answer."""

    refused: int = 0

    def wrap(self, double: PlatformDouble) -> None:
        original = double.rate_limited

        def counted() -> Any:
            self.refused += 1
            return original()

        double.rate_limited = counted  # type: ignore[method-assign]


@dataclass
class StormResult:
    backend: str
    skus: int
    links: int
    platform_limit: float
    pack_rate: int
    latency_s: float
    seed_s: float = 0.0
    queued_after_s: float | None = None  # from the change's commit until every push queued
    drained: int = 0
    drain_s: float = 0.0
    drain_per_s: float = 0.0
    drain_per_s_by_store: dict[str, float] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    live_quiet_s: list[float] = field(default_factory=list)
    live_storm_s: list[float] = field(default_factory=list)
    live_unconverged: int = 0
    projection_50k_min: float = 0.0
    ledger_ok: bool = True


def bench_storm(backend: str, cfg: Config, console: Console) -> StormResult:
    n = cfg.storm_skus
    with (
        fresh_runtime(backend) as runtime,
        KuaishouDouble() as ks,
        DouyinDouble() as dy,
    ):
        counters = {"kuaishou": _Counter(), "douyin": _Counter()}
        counters["kuaishou"].wrap(ks)
        counters["douyin"].wrap(dy)
        t0 = time.perf_counter()
        seeded = seed_shop(runtime, skus=n + 1, spot=10_000, presale=100, label="storm")
        shop_id, live_sku, storm = seeded.shop_id, seeded.sku_ids[0], seeded.sku_ids[1:]
        ks_channel = _kuaishou_channel(runtime, shop_id, ks)
        dy_channel = _douyin_channel(runtime, shop_id, dy)
        doubles: dict[int, PlatformDouble] = {ks_channel.id: ks, dy_channel.id: dy}
        for k, sku in enumerate(seeded.sku_ids):
            item = str(100_000 + k)
            for channel, double, sku_ref in (
                (ks_channel, ks, str(200_000 + k)),
                (dy_channel, dy, str(300_000 + k)),
            ):
                double.set_stock(item, sku_ref, 0)
                setup.link_sku(
                    setup.LinkSku(shop_id, channel.id, sku, item, sku_ref), runtime.uow()
                )
        setup.live_lock(setup.LiveLock(shop_id, ks_channel.id, (live_sku,)), runtime.uow())
        _start_reading_now(runtime, shop_id, [ks_channel, dy_channel])
        links, wanted = _mark_pushed(runtime, shop_id, doubles)
        result = StormResult(
            backend,
            n,
            2 * n,
            cfg.platform_limit,
            load_pack("kuaishou").api.calls_per_second,
            cfg.storm_latency_s,
            seed_s=round(time.perf_counter() - t0, 1),
        )
        for double in (ks, dy):
            double.faults.latency_s = cfg.storm_latency_s
            double.faults.rate_limit_per_s = cfg.platform_limit
        live_links = [ln for ln in links if ln.sku_id == live_sku]
        storm_links = [ln for ln in links if ln.sku_id != live_sku]
        worker = ChannelWorker(runtime, KEY, lag=timedelta(0))
        thread = threading.Thread(target=worker.follow, name="channel-worker")
        thread.start()
        try:
            time.sleep(2.0)  # the first rounds find every store showing its quota
            for _ in range(3):  # the live SKU with nothing else going on
                took = _live_sale(runtime, doubles, ks_channel.id, live_links, 30.0)
                if took is not None:
                    result.live_quiet_s.append(round(took, 2))
            _storm(runtime, cfg, result, shop_id, storm, (storm_links, live_links), wanted, doubles)
            result.rate_limited = {k: c.refused for k, c in counters.items()}
        finally:
            worker.stop()
            thread.join(timeout=120)
            worker.close()
        _, mismatches = verify_ledger(runtime.uow(readonly=True), shop_id)
        result.ledger_ok = not mismatches
    live_storm = result.live_storm_s
    console.log(
        f"{backend:10} storm {n} SKUs × 2 stores: queued in {result.queued_after_s} s, "
        f"drained {result.drained}/{result.links} at {result.drain_per_s:.1f}/s "
        f"(rate-limited {result.rate_limited}); live SKU quiet {result.live_quiet_s} s, "
        f"storm median {statistics.median(live_storm) if live_storm else None} s "
        f"max {max(live_storm) if live_storm else None} s",
        highlight=False,
    )
    return result


def _mark_pushed(
    runtime: Runtime, shop_id: int, doubles: dict[int, PlatformDouble]
) -> tuple[list[Link], dict[int, int]]:
    """Start from stores that already show their quotas (as after a first sync): the
    storm is the change, not the stores' first push."""
    with runtime.uow() as uow:
        links = uow.channels.links(shop_id)
        wanted = figures(uow, links)
        for ln in links:
            doubles[ln.channel_id].set_stock(ln.platform_item_id, ln.platform_sku_id, wanted[ln.id])
            uow.channels.record_push(ln.id, wanted[ln.id], wanted[ln.id], uow.now(), 0)
        uow.commit()
    return links, wanted


def _live_sale(
    runtime: Runtime,
    doubles: dict[int, PlatformDouble],
    live_store: int,
    live_links: list[Link],
    timeout: float,
) -> float | None:
    """One buyer on the live store; seconds until the order is recorded and every store
    shows the live SKU's quota (None: not within ``timeout``)."""
    (sold,) = [ln for ln in live_links if ln.channel_id == live_store]
    ks = doubles[live_store]
    assert isinstance(ks, KuaishouDouble)
    ks.add_order(sold.platform_item_id, sold.platform_sku_id, 1, unit_price_fen=29_900)
    with ks.lock:
        on_platform = len(ks.state.orders)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with runtime.uow(readonly=True) as uow:
            recorded = uow.channels.platform_orders_count(live_store)
            wanted = figures(uow, live_links)
        if recorded == on_platform and all(
            doubles[ln.channel_id].stock_of(ln.platform_item_id, ln.platform_sku_id)
            == wanted[ln.id]
            for ln in live_links
        ):
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def _storm(
    runtime: Runtime,
    cfg: Config,
    result: StormResult,
    shop_id: int,
    storm: list[int],
    links: tuple[list[Link], list[Link]],
    before: dict[int, int],
    doubles: dict[int, PlatformDouble],
) -> None:
    """Ten presale units more for every storm SKU in one transaction; then watch."""
    with runtime.uow() as uow:
        entries = []
        for sku in storm:
            uow.stock.add_quantity(sku, Tier.PRESALE, 10)
            entries.append(
                LedgerEntry.change(
                    LedgerKind.RECEIPT, shop_id, sku, Tier.PRESALE, 10, "bench", "count", uow.now()
                )
            )
        uow.stock.record(entries)
        uow.commit()
    changed = time.monotonic()
    with runtime.uow(readonly=True) as uow:  # the storm's last ledger entry
        _, last_entry = uow.channels.skus_changed_after(0, 10**9)
    storm_links, live_links = links
    live_store = next(c for c, d in doubles.items() if isinstance(d, KuaishouDouble))
    target = {ln.id: before[ln.id] + 10 for ln in storm_links}
    done_at: dict[int, float] = {}
    stop = threading.Event()
    live_samples: list[float | None] = []

    def live_buyers() -> None:
        while not stop.wait(cfg.live_every_s):
            took = _live_sale(runtime, doubles, live_store, live_links, cfg.storm_seconds)
            live_samples.append(took)

    buyers = threading.Thread(target=live_buyers, name="live-buyers")
    buyers.start()
    try:
        while time.monotonic() - changed < cfg.storm_seconds and len(done_at) < len(target):
            if result.queued_after_s is None:  # the worker's feed read past the storm
                with runtime.uow(readonly=True) as uow:
                    if uow.channels.mark("ledger") >= last_entry:
                        result.queued_after_s = round(time.monotonic() - changed, 2)
            now = time.monotonic()
            for ln in storm_links:
                if (
                    ln.id not in done_at
                    and doubles[ln.channel_id].stock_of(ln.platform_item_id, ln.platform_sku_id)
                    == target[ln.id]
                ):
                    done_at[ln.id] = now
            time.sleep(0.2)
    finally:
        stop.set()
        buyers.join(timeout=cfg.storm_seconds + 5)
    end = max(done_at.values(), default=changed)
    result.drained = len(done_at)
    result.drain_s = round(end - changed, 2)
    result.drain_per_s = round(len(done_at) / max(end - changed, 1e-9), 1)
    for channel_id, double in doubles.items():
        mine = [
            done_at[ln.id] for ln in storm_links if ln.channel_id == channel_id and ln.id in done_at
        ]
        span = max(mine, default=changed) - changed
        result.drain_per_s_by_store[double.name] = round(len(mine) / max(span, 1e-9), 1)
    result.live_storm_s = [round(s, 2) for s in live_samples if s is not None]
    result.live_unconverged = sum(1 for s in live_samples if s is None)
    if result.drain_per_s:
        result.projection_50k_min = round(100_000 / result.drain_per_s / 60, 1)


# --- output ---------------------------------------------------------------------------------


def render(console: Console, payload: dict[str, Any]) -> None:
    if payload["burst"]:
        t = Table(title="1. burst: oversold units and convergence by rule")
        for col in (
            "backend",
            "rule",
            "buyers",
            "pool",
            "paid",
            "covered",
            "oversold",
            "exposure ¥",
            "refused",
            "pushes",
            "converged s",
        ):
            t.add_column(col, justify="left" if col in ("backend", "rule") else "right")
        for r in payload["burst"]:
            t.add_row(
                r["backend"],
                r["rule_detail"],
                str(r["buyers"]),
                str(r["pool"]),
                str(r["units_paid"]),
                str(r["units_covered"]),
                str(r["oversold_units"]),
                f"{r['exposure_fen'] / 100:,.0f}",
                str(r["refused"]),
                str(r["pushes"]),
                "never" if r["converged_s"] is None else f"{r['converged_s']:.1f}",
            )
        console.print(t)
    if payload["sync"]:
        t = Table(title="2. sync: platform orders ingested")
        for col in ("backend", "orders", "pages", "placed/s", "re-read (known)/s", "recorded"):
            t.add_column(col, justify="left" if col == "backend" else "right")
        for r in payload["sync"]:
            t.add_row(
                r["backend"],
                str(r["orders_on_platform"]),
                str(r["pages"]),
                f"{r['placed_per_s']:,.0f}",
                f"{r['reread_per_s']:,.0f}",
                str(r["recorded"]),
            )
        console.print(t)
    if payload["storm"]:
        t = Table(title="3. storm: pushes queued and drained; the live SKU meanwhile")
        for col in (
            "backend",
            "links",
            "queued in s",
            "drained",
            "drain/s",
            "by store /s",
            "rate-limited",
            "50k SKUs, min",
            "live quiet s",
            "live in storm s (median / max)",
        ):
            t.add_column(col, justify="left" if col == "backend" else "right")
        for r in payload["storm"]:
            live = r["live_storm_s"]
            t.add_row(
                r["backend"],
                str(r["links"]),
                str(r["queued_after_s"]),
                f"{r['drained']} in {r['drain_s']} s",
                f"{r['drain_per_s']:.1f}",
                ", ".join(f"{k} {v}" for k, v in r["drain_per_s_by_store"].items()),
                ", ".join(f"{k} {v}" for k, v in r["rate_limited"].items()),
                f"{r['projection_50k_min']:.0f}",
                ", ".join(str(s) for s in r["live_quiet_s"]),
                (f"{statistics.median(live):.1f} / {max(live):.1f}" if live else "—")
                + (f" ({r['live_unconverged']} never)" if r["live_unconverged"] else ""),
            )
        console.print(t)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.channels",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--parts", default="burst,sync,storm")
    parser.add_argument("--storm-skus", type=int, help="SKUs the storm touches")
    parser.add_argument("--platform-limit", type=float, help="calls/s the doubles admit")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else Config()
    if args.storm_skus:
        cfg = replace(cfg, storm_skus=args.storm_skus)
    if args.platform_limit:
        cfg = replace(cfg, platform_limit=args.platform_limit)
    console = Console(width=None if sys.stdout.isatty() else 190)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if set(backends) - {"sqlite", "postgresql"} or set(parts) - {"burst", "sync", "storm"}:
        console.print("[bold red]--backends: sqlite,postgresql; --parts: burst,sync,storm[/]")
        return 2
    if "postgresql" in backends and (why := pg_available()):
        console.print(f"[bold red]PostgreSQL is not reachable ({why});[/] try --backends sqlite")
        return 2
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    payload: dict[str, Any] = {
        "benchmark": "channels",
        "started_at": started.isoformat(),
        "config": asdict(cfg),
        "machine": machine_info(),
        "burst": [],
        "sync": [],
        "storm": [],
    }
    for backend in backends:
        console.rule(backend)
        if "burst" in parts:
            payload["burst"] += bench_burst(backend, cfg, console)
        if "sync" in parts:
            payload["sync"].append(bench_sync(backend, cfg, console))
        if "storm" in parts:
            payload["storm"].append(asdict(bench_storm(backend, cfg, console)))
    payload["seconds"] = round(time.perf_counter() - t0, 1)
    render(console, payload)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    (RESULTS / f"channels-{stamp}.json").write_text(text)
    (RESULTS / "channels-latest.json").write_text(text)
    console.print(f"results: bench/results/channels-{stamp}.json ({payload['seconds']} s)")
    broken = [r for r in payload["burst"] if r["problems"]]
    broken += [
        r for r in payload["sync"] if not r["ledger_ok"] or r["recorded"] != r["orders_on_platform"]
    ]
    broken += [r for r in payload["storm"] if not r["ledger_ok"]]
    if broken:
        console.print(f"[bold white on red] {len(broken)} run(s) broke an invariant [/]")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
