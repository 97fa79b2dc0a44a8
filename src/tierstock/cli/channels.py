"""`tierstock channels …`: one stock pool sold in several platform stores (docs/rules.md §10).

A channel is a store on Kuaishou, Douyin or Taobao (or the merchant's own storefront).
Each SKU sold in a store is *linked* to the platform's item and SKU; the store shows its
quota of the pool (rules, safety stock, live lock), pushed by `tierstock channels sync`,
which also brings the store's paid orders in, each exactly once.

A store's credentials are sealed with the runtime's secret key as they are stored; no
command ever prints one, not even in a refusal: only the names of the fields set.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from tierstock.cli.support import (
    ACTOR,
    NounApp,
    ShopOpt,
    display_zone,
    err,
    fail,
    local_time,
    new_table,
    open_runtime,
    open_shop,
    out,
)
from tierstock.domain.channels import Platform
from tierstock.domain.compensation import yuan
from tierstock.domain.errors import DomainError
from tierstock.platforms.base import PlatformError
from tierstock.services.channels import credentials as creds
from tierstock.services.channels import setup
from tierstock.services.channels.reconcile import Drift, reconcile_shop
from tierstock.services.channels.status import channel_status, incidents_of
from tierstock.services.channels.worker import ChannelWorker, RoundReport

ENV_PREFIX = "TIERSTOCK_CHANNEL_"

app = NounApp(
    help="Platform stores 渠道: add, link SKUs, quota rules, live lock, sync, reconcile.",
    no_args_is_help=True,
)

ChannelOpt = Annotated[int, typer.Option("--channel", help="channel id", min=1)]
SkuOpt = Annotated[int, typer.Option("--sku", help="SKU id", min=1)]


def _fields_hint() -> str:
    return "; ".join(f"{p.value}: {', '.join(names)}" for p, names in creds.FIELDS.items() if names)


def _credentials(platform: str, given: list[str]) -> dict[str, str]:
    """``--credential NAME=VALUE`` options, then ``TIERSTOCK_CHANNEL_<NAME>`` for each
    field of the platform not given. A malformed option is refused without its text:
    it may be a secret typed in the wrong place."""
    values: dict[str, str] = {}
    for text in given:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise fail("--credential: each is NAME=VALUE (what was given is not shown)")
        values[name.strip()] = value
    try:
        wanted = creds.FIELDS[Platform(platform)]
    except ValueError:
        return values  # the service names --platform
    for name in wanted:
        env = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
        if name not in values and env:
            values[name] = env
    missing = [name for name in wanted if not values.get(name, "").strip()]
    if missing and not set(values) - set(wanted):
        need = ", ".join(f"{n} (--credential {n}=… or {ENV_PREFIX}{n.upper()})" for n in missing)
        raise fail(f"--credential: a {platform} store needs {need}")
    return values


@app.command(
    "add",
    epilog=(
        "Credentials may be given as environment variables instead of options, so that "
        "no secret is typed on a command line (or kept in the shell's history): "
        f"{ENV_PREFIX}<FIELD> in capitals, e.g. {ENV_PREFIX}APP_KEY, "
        f"{ENV_PREFIX}SIGN_SECRET, {ENV_PREFIX}ACCESS_TOKEN. A --credential option wins "
        f"over the variable. Fields by platform — {_fields_hint()}."
    ),
)
def add(
    shop: ShopOpt,
    platform: Annotated[str, typer.Option(help="kuaishou | douyin | taobao | own")],
    name: Annotated[str, typer.Option(help="the store's name, unique in the shop")],
    server_url: Annotated[
        str | None,
        typer.Option(help="the platform's open-API gateway (default: the platform's own)"),
    ] = None,
    # named as the service's field (credentials.<name>), so a refusal names --credential
    credentials: Annotated[
        list[str] | None,
        typer.Option(
            "--credential",
            help=f"NAME=VALUE, repeatable; or set {ENV_PREFIX}<NAME> (see below)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Add a store of the shop on a platform, with its open-API credentials.

    The credentials are sealed with the secret key as they are stored and never shown
    again: only the names of the fields set."""
    runtime, _zone = open_shop(shop)
    values = _credentials(platform, credentials or [])
    cmd = setup.AddChannel(shop, platform, name, values, server_url, actor=ACTOR)
    channel = setup.add_channel(cmd, runtime.uow(), runtime.secret_key())
    fields = creds.FIELDS[channel.platform]
    sealed = f"; credentials set: {', '.join(fields)} (sealed)" if fields else ""
    out.print(
        f"channel {channel.id}: {escape(channel.name)} on {channel.platform.value}{sealed}",
        highlight=False,
    )


def _folding(table: Table) -> Table:
    """A wide table folds its cells at a narrow width (a pipe gets 80 columns) rather
    than cutting an id or a time short with an ellipsis."""
    for column in table.columns:
        column.overflow = "fold"
    return table


def _synced(dt: datetime | None, zone: ZoneInfo) -> str:
    return "—" if dt is None else f"{dt.astimezone(zone):%Y-%m-%d %H:%M:%S}"


@app.command("list")
def list_channels(shop: ShopOpt) -> None:
    """The shop's stores: links, last order sync, push queue, drift and open incidents."""
    runtime, zone = open_shop(shop)
    rows = channel_status(shop, runtime.uow(readonly=True))
    figures = (
        "links",
        "platform orders",
        "queued pushes",
        "drifted links",
        "open incidents",
        "exposure ¥",
    )
    table = _folding(
        new_table(
            *("id", "store", "platform", "links", "synced until", *figures[1:]),
            right=figures,
            title=f"Channels of shop {shop} (times in {zone.key})",
            title_justify="left",
        )
    )
    for s in rows:
        c = s.channel
        table.add_row(
            str(c.id),
            escape(c.name) + (" (live)" if c.live else ""),
            c.platform.value,
            str(s.links),
            _synced(s.synced_until, zone),
            str(s.platform_orders),
            str(s.queued),
            str(s.drifted),
            str(s.open_incidents),
            yuan(s.exposure_fen),
        )
    out.print(table)
    if not rows:
        out.print("no channels yet: add one with `tierstock channels add`")


@app.command("link")
def link(
    shop: ShopOpt,
    channel: ChannelOpt,
    sku: SkuOpt,
    platform_item: Annotated[str, typer.Option("--item", help="the platform's item id")],
    platform_sku: Annotated[str, typer.Option("--platform-sku", help="the platform's SKU id")],
) -> None:
    """Sell a SKU in a store as the platform's item and SKU.

    The store's figure for it is pushed by the next `tierstock channels sync`."""
    runtime, _zone = open_shop(shop)
    cmd = setup.LinkSku(shop, channel, sku, platform_item, platform_sku, ACTOR)
    made = setup.link_sku(cmd, runtime.uow())
    out.print(
        f"link {made.id}: SKU {made.sku_id} sold in channel {made.channel_id} as item "
        f"{escape(made.platform_item_id)} / SKU {escape(made.platform_sku_id)}",
        highlight=False,
    )


@app.command("rule")
def rule(
    shop: ShopOpt,
    channel: ChannelOpt,
    sku: SkuOpt,
    share: Annotated[
        int | None, typer.Option(help="percent of the pool after safety stock (0–100)")
    ] = None,
    fixed: Annotated[int | None, typer.Option(help="a fixed number of units")] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="no rule: the store shows the whole pool")
    ] = False,
) -> None:
    """The SKU's quota in one store: --share PCT, --fixed N, or --clear."""
    given = [o for o, v in (("--share", share), ("--fixed", fixed)) if v is not None]
    if clear:
        given.append("--clear")
    if len(given) != 1:
        raise fail(f"{(given or ['--share'])[-1]}: give one of --share, --fixed or --clear")
    option = given[0]
    kind = {"--share": "share", "--fixed": "fixed", "--clear": None}[option]
    value = share if share is not None else (fixed if fixed is not None else 0)
    runtime, _zone = open_shop(shop)
    try:
        setup.set_rule(setup.SetRule(shop, sku, channel, kind, value, ACTOR), runtime.uow())
    except DomainError as exc:
        if exc.field not in ("value", "kind"):
            raise
        raise fail(f"{option}: {exc.message}") from None
    what = {
        "--share": f"{value} % of the pool after safety stock",
        "--fixed": f"{value} units (at most the pool after safety stock)",
        "--clear": "no rule: the whole pool after safety stock",
    }[option]
    out.print(f"SKU {sku} in channel {channel}: {what}", highlight=False)


@app.command("safety")
def safety(
    shop: ShopOpt,
    sku: SkuOpt,
    units: Annotated[int, typer.Option(help="units of every tier held back from every store")],
) -> None:
    """Safety stock: units of each tier no platform store shows (the sync lag's margin)."""
    runtime, _zone = open_shop(shop)
    setup.set_safety(setup.SetSafety(shop, sku, units, ACTOR), runtime.uow())
    out.print(
        f"SKU {sku}: {units} unit(s) of every tier held back from every platform store",
        highlight=False,
    )


@app.command("lock")
def lock(
    shop: ShopOpt,
    channel: ChannelOpt,
    sku: Annotated[list[int], typer.Option("--sku", help="a SKU of the live session (repeat)")],
) -> None:
    """Live lock 直播锁库: give a live session's SKUs to its store.

    The store running the session gets the whole spot tier of those SKUs (less the
    safety stock); the other platform stores show none of it until `unlock`."""
    runtime, _zone = open_shop(shop)
    setup.live_lock(setup.LiveLock(shop, channel, tuple(sku), ACTOR), runtime.uow())
    skus = ", ".join(str(s) for s in sorted(set(sku)))
    out.print(f"live lock: channel {channel} holds the spot units of SKU {skus}", highlight=False)


@app.command("unlock")
def unlock(shop: ShopOpt) -> None:
    """End the live session: the live lock is released, every store back to its rules."""
    runtime, _zone = open_shop(shop)
    setup.live_lock(setup.LiveLock(shop, None, (), ACTOR), runtime.uow())
    out.print("live lock released")


# --- the worker ------------------------------------------------------------------------


class _OneLine(logging.Handler):
    """The worker's warnings as one line each on stderr: no traceback, no markup. A
    failed round says why when the reason is ours (a refusal, a platform's answer, both
    free of credentials); anything else only by its type, as it may quote a request."""

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, DomainError):
            line += f": {exc.message}"
        elif isinstance(exc, PlatformError):
            line += f": {exc}"
        elif exc is not None:
            line += f" ({type(exc).__name__})"
        err.print(f"{record.levelname.lower()}: {escape(line)}", highlight=False)


@contextmanager
def _worker_log() -> Iterator[None]:
    logger = logging.getLogger("tierstock")
    handler = _OneLine(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _summary(n: int, r: RoundReport) -> str | None:
    """A short line of what the round did; ``None`` when nothing happened."""
    if not r.eventful:
        return None
    parts = []
    if r.pushes.pushed:
        parts.append(f"{r.pushes.pushed} figure(s) pushed")
    if r.pushes.failed:
        parts.append(f"{r.pushes.failed} push(es) failed")
    for store, o in r.orders.items():
        done = [
            f"{count} {what}"
            for count, what in (
                (o.placed, "order(s) placed"),
                (o.incidents, "oversell incident(s)"),
                (o.cancelled, "cancel(s) released"),
            )
            if count
        ]
        if done:
            parts.append(f"{escape(store)}: {', '.join(done)}")
    if r.drift:
        parts.append(f"{len(r.drift)} drift(s), {sum(d.repaired for d in r.drift)} repaired")
    errors = r.pushes.errors + r.errors + [e for o in r.orders.values() for e in o.errors]
    if errors:
        parts.append(f"{len(errors)} error(s)")
    at = datetime.now(display_zone())
    return f"{at:%H:%M:%S} round {n}: {'; '.join(parts)}"


def _report(n: int, r: RoundReport) -> None:
    line = _summary(n, r)
    if line is None:
        return
    out.print(line, highlight=False)
    for e in r.pushes.errors + [e for o in r.orders.values() for e in o.errors]:
        err.print(f"warning: {escape(e)}", highlight=False)
    # r.errors (an order sync that failed) are logged by the worker: shown once, above


@contextmanager
def _stopped_by_signals(worker: ChannelWorker) -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM end the run after the round under way; a second
    Ctrl-C interrupts at once."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        worker.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may take signals (an embedding caller stops the worker)
        return
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@app.command("sync")
def sync(
    follow: Annotated[
        bool,
        typer.Option("--follow", help="keep syncing until Ctrl-C or SIGTERM (the worker)"),
    ] = False,
    rounds: Annotated[
        int | None,
        typer.Option(help="stop after N rounds (default: 1; with --follow, no limit)"),
    ] = None,
) -> None:
    """Push each store's figure, bring its new orders in, repair drift now and then.

    Runs every shop of the database. A round is printed only when something happened."""
    if rounds is not None and rounds < 1:
        raise fail("--rounds: give 1 or more")
    runtime = open_runtime()
    worker = ChannelWorker(runtime, runtime.secret_key())
    done = 0

    def on_round(report: RoundReport) -> None:
        nonlocal done
        done += 1
        _report(done, report)
        if rounds is not None and done >= rounds:
            worker.stop()

    with _worker_log():
        try:
            if not follow:
                for _ in range(rounds or 1):
                    on_round(worker.run_round())
                return
            out.print("syncing the stores; Ctrl-C to stop")
            with _stopped_by_signals(worker):
                worker.follow(on_round=on_round)
            out.print(f"stopped after {done} round(s)")
        except KeyboardInterrupt:
            out.print(f"interrupted after {done} round(s)")
        finally:
            worker.close()


def _drift_line(d: Drift, dry_run: bool) -> str:
    where = f"{escape(d.channel)} SKU {d.sku_id} (link {d.link_id})"
    if d.shown is None:
        return f"{where}: could not be read — {escape(d.error)}"
    head = f"{where}: the store shows {d.shown}, its quota is {d.quota}"
    if d.repaired:
        return f"{head} — repaired"
    if d.error:
        return f"{head} — not repaired: {escape(d.error)}"
    return f"{head} — not repaired" + (" (dry run)" if dry_run else "")


@app.command("reconcile")
def reconcile(
    shop: ShopOpt,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="only report what differs, change nothing")
    ] = False,
) -> None:
    """Read what each store shows, compare it with its quota, set it right (drift repair)."""
    runtime, _zone = open_shop(shop)
    drifts = reconcile_shop(runtime, runtime.secret_key(), shop, repair=not dry_run)
    for d in drifts:
        out.print(_drift_line(d, dry_run), highlight=False)
    if not drifts:
        out.print("no drift: every store shows its quota")


@app.command("incidents")
def incidents(
    shop: ShopOpt,
    open_only: Annotated[bool, typer.Option("--open", help="only those not resolved")] = False,
) -> None:
    """Oversells: platform orders the pool could not cover, with what each may cost.

    The buyer paid and the order stands; it is shown here until it is resolved."""
    runtime, zone = open_shop(shop)
    names = {c.id: c.name for c in setup.channels_of(shop, runtime.uow(readonly=True))}
    found = incidents_of(shop, runtime.uow(readonly=True), open_only=open_only)
    money = ("qty", "paid ¥", "exposure ¥")
    table = _folding(
        new_table(
            *("id", "store", "platform order", "SKU", "qty", "paid ¥", "exposure ¥", "ship by"),
            *("found", "resolved"),
            right=money,
            title=f"{'Open oversell' if open_only else 'Oversell'} incidents of shop {shop} "
            f"(times in {zone.key})",
            title_justify="left",
        )
    )
    for i in found:
        table.add_row(
            str(i.id),
            escape(names.get(i.channel_id, str(i.channel_id))),
            escape(i.platform_order_id),
            str(i.sku_id),
            str(i.quantity),
            yuan(i.paid_fen),
            yuan(i.exposure_fen),
            local_time(i.promised_ship_by, zone),
            local_time(i.created_at, zone),
            local_time(i.resolved_at, zone) if i.resolved_at else "open",
        )
    out.print(table)
    if not found:
        out.print("no incidents")
