"""`tierstock channels …` on a real SQLite database: stores added with credentials from
the environment (never printed, not even in a refusal), links, quota rules and their
refusals naming the option, safety stock, the live lock, and `sync` against a started
Kuaishou double — an order placed, an oversell kept as an incident, the figure pushed —
then `list`, `incidents` and `reconcile`; `sync --follow` stops cleanly on a signal."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner, Result

from tierstock.cli import support
from tierstock.services.channels.status import channel_status
from tierstock.services.demo import BurstPlan, seed_tiered_sku
from tierstock.services.runtime import Runtime
from tierstock.testing.platforms.kuaishou import KuaishouDouble
from tierstock.testing.server import free_port

from .conftest import Cli, Shop, one_error_line

KEY = b"x" * 43 + b"="  # a Fernet key: 32 bytes, url-safe base64
SH = ZoneInfo("Asia/Shanghai")
ITEM, KS_SKU = "1001", "2001"
SECRETS = {
    "app_key": "ks-app-key-do-not-print",
    "sign_secret": "ks-sign-secret-do-not-print",
    "access_token": "ks-access-token-do-not-print",
}


@pytest.fixture()
def cli(sqlite_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The conftest's CLI, on a runtime that has a key to seal credentials with."""
    keyed = Runtime(sqlite_runtime.engine, secret_source=lambda: KEY)
    monkeypatch.setattr(support, "runtime_factory", lambda: keyed)
    monkeypatch.setenv("COLUMNS", "200")  # the tables' rows on one line each
    for name in list(os.environ):
        if name.startswith("TIERSTOCK_CHANNEL_"):
            monkeypatch.delenv(name)
    return Cli(CliRunner())


def _dead_url() -> str:
    """A loopback port nothing listens on: a store no test ever reaches."""
    return f"http://127.0.0.1:{free_port()}"


def _env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"TIERSTOCK_CHANNEL_{name.upper()}", value)


def _no_secret(*results: Result) -> None:
    for result in results:
        text = result.output + (result.stderr or "")
        leaked = [v for v in SECRETS.values() if v in text]
        assert leaked == [], text


def _rows(output: str) -> list[list[str]]:
    """The cells of each table row (and of any other line)."""
    return [[c.strip() for c in line.split("│") if c.strip()] for line in output.splitlines()]


def _row(output: str, first: str) -> list[str]:
    """The cells of the table row that starts with ``first``."""
    for cells in _rows(output):
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{output}")


def _channel_id(result: Result) -> int:
    assert result.exit_code == 0, result.output
    found = re.match(r"channel (\d+): ", result.output)
    assert found, result.output
    return int(found.group(1))


def _add(cli: Cli, shop: int, name: str, platform: str = "kuaishou", *extra: str) -> Result:
    return cli(
        "channels", "add", "--shop", str(shop), "--platform", platform, "--name", name, *extra
    )


def _refused(result: Result, line: str) -> None:
    assert result.exit_code == 1, result.output
    assert one_error_line(result) == line
    assert result.stderr.strip() == line  # on stderr, nothing on stdout
    _no_secret(result)


# --- set-up ------------------------------------------------------------------------------


def test_add_takes_the_credentials_from_the_environment_and_never_prints_them(
    cli: Cli, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, SECRETS)
    added = _add(cli, shop.id, "快手旗舰店", "kuaishou", "--server-url", _dead_url())
    channel = _channel_id(added)
    assert added.output.strip() == (
        f"channel {channel}: 快手旗舰店 on kuaishou; "
        "credentials set: app_key, sign_secret, access_token (sealed)"
    )
    listed = cli("channels", "list", "--shop", str(shop.id))
    assert listed.exit_code == 0, listed.output
    assert f"Channels of shop {shop.id} (times in Asia/Shanghai)" in listed.output
    assert _row(listed.output, str(channel)) == [
        str(channel), "快手旗舰店", "kuaishou", "0", "—", "0", "0", "0", "0", "¥0.00"
    ]  # fmt: skip
    _no_secret(added, listed)
    help_text = cli("channels", "add", "--help").output
    assert "TIERSTOCK_CHANNEL_SIGN_SECRET" in help_text


def test_a_refused_store_is_one_line_naming_the_option_and_shows_no_credential(
    cli: Cli, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = str(shop.id)
    typed = f"app_key={SECRETS['app_key']}"
    _refused(
        _add(cli, shop.id, "店", "kuaishou", "--credential", typed),
        "error: --credential: a kuaishou store needs sign_secret (--credential sign_secret=… "
        "or TIERSTOCK_CHANNEL_SIGN_SECRET), access_token (--credential access_token=… or "
        "TIERSTOCK_CHANNEL_ACCESS_TOKEN)",
    )
    _refused(  # a secret typed without its name is not echoed back
        _add(cli, shop.id, "店", "kuaishou", "--credential", SECRETS["sign_secret"]),
        "error: --credential: each is NAME=VALUE (what was given is not shown)",
    )
    _env(monkeypatch, SECRETS)
    _refused(
        _add(cli, shop.id, "店", "kuaishou", "--credential", f"pin={SECRETS['access_token']}"),
        "error: --credential: kuaishou credentials have no field 'pin'; "
        "they are app_key, sign_secret, access_token",
    )
    _refused(
        _add(cli, shop.id, "店", "pinduoduo"),
        "error: --platform: platform must be one of own, kuaishou, douyin, taobao",
    )
    _refused(
        _add(cli, shop.id, "店", "kuaishou", "--server-url", "ftp://gw.example"),
        "error: --server-url: server_url must be an http(s) URL",
    )
    _channel_id(_add(cli, shop.id, "店", "kuaishou", "--server-url", _dead_url()))
    _refused(
        _add(cli, shop.id, "店", "kuaishou", "--server-url", _dead_url()),
        "error: --name: the shop already has a channel named '店'",
    )
    _refused(_add(cli, 999_999, "店", "own"), "error: --shop: no shop 999999")
    assert cli("channels", "list", "--shop", sid).output.count("│ kuaishou") == 1


def test_links_rules_safety_stock_and_the_live_lock(
    cli: Cli, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid, sku = str(shop.id), str(shop.sku_id)
    _env(monkeypatch, SECRETS)
    ks = _channel_id(_add(cli, shop.id, "快手店", "kuaishou", "--server-url", _dead_url()))
    _env(monkeypatch, {"app_secret": "dy-app-secret"})
    dy = _channel_id(_add(cli, shop.id, "抖店", "douyin", "--server-url", _dead_url()))
    own = _channel_id(_add(cli, shop.id, "自营商城", "own"))

    def link(channel: int, sku_id: str, ref: str) -> Result:
        return cli(
            *("channels", "link", "--shop", sid, "--channel", str(channel), "--sku", sku_id),
            *("--item", ITEM, "--platform-sku", ref),
        )

    linked = link(ks, sku, KS_SKU)
    assert linked.exit_code == 0, linked.output
    assert re.fullmatch(
        rf"link \d+: SKU {sku} sold in channel {ks} as item {ITEM} / SKU {KS_SKU}\n",
        linked.output,
    )
    _refused(
        link(ks, sku, "2002"),
        "error: --platform-sku: this SKU or this platform SKU is already linked in the channel",
    )
    _refused(
        link(own, sku, "2003"),
        "error: --channel: the own storefront sells every SKU from the pool; it needs no link",
    )
    _refused(link(999_999, sku, "2004"), "error: --channel: no channel 999999 in this shop")
    assert link(dy, sku, "3001").exit_code == 0

    def rule(channel: int, *how: str) -> Result:
        return cli("channels", "rule", "--shop", sid, "--channel", str(channel), "--sku", sku, *how)

    _refused(rule(ks, "--share", "150"), "error: --share: a share is a percentage from 0 to 100")
    _refused(rule(ks, "--fixed=-1"), "error: --fixed: a fixed quota cannot be negative")
    _refused(rule(ks), "error: --share: give one of --share, --fixed or --clear")
    _refused(
        rule(ks, "--share", "30", "--fixed", "2"),
        "error: --fixed: give one of --share, --fixed or --clear",
    )
    set_share = rule(ks, "--share", "60")
    assert set_share.exit_code == 0, set_share.output
    assert set_share.output == f"SKU {sku} in channel {ks}: 60 % of the pool after safety stock\n"
    _refused(
        rule(dy, "--share", "50"),
        "error: --share: the shares of this SKU add up to 110 %, more than 100 %",
    )
    assert rule(dy, "--fixed", "2").exit_code == 0
    cleared = rule(ks, "--clear")
    assert cleared.exit_code == 0, cleared.output
    assert "no rule: the whole pool" in cleared.output

    safety = cli("channels", "safety", "--shop", sid, "--sku", sku, "--units", "2")
    assert safety.exit_code == 0, safety.output
    assert safety.output.startswith(f"SKU {sku}: 2 unit(s) of every tier held back")
    _refused(
        cli("channels", "safety", "--shop", sid, "--sku", sku, "--units=-1"),
        "error: --units: safety stock cannot be negative",
    )
    _refused(
        cli("channels", "safety", "--shop", sid, "--sku", "999999", "--units", "1"),
        "error: --sku: no SKU 999999 in this shop",
    )

    locked = cli("channels", "lock", "--shop", sid, "--channel", str(ks), "--sku", sku)
    assert locked.exit_code == 0, locked.output
    assert locked.output == f"live lock: channel {ks} holds the spot units of SKU {sku}\n"
    listed = cli("channels", "list", "--shop", sid)
    assert _row(listed.output, str(ks))[1] == "快手店 (live)"
    assert _row(listed.output, str(dy))[1] == "抖店"
    assert _row(listed.output, str(ks))[3] == "1"  # links
    assert _row(listed.output, str(ks))[6] == "1"  # queued pushes (the worker sends them)
    _refused(
        cli("channels", "lock", "--shop", sid, "--channel", str(own), "--sku", sku),
        "error: --channel: the live lock goes to a platform store",
    )
    _refused(
        cli("channels", "lock", "--shop", sid, "--channel", str(ks), "--sku", "999999"),
        "error: --sku: no SKU 999999 in this shop",
    )
    unlocked = cli("channels", "unlock", "--shop", sid)
    assert unlocked.exit_code == 0 and unlocked.output == "live lock released\n"
    listed = cli("channels", "list", "--shop", sid)
    assert _row(listed.output, str(ks))[1] == "快手店"
    _no_secret(linked, set_share, safety, locked, unlocked, listed)


# --- the worker, against a started Kuaishou double ----------------------------------------


@dataclass(frozen=True)
class Fresh:
    """A database of its own: the worker syncs every store of a database."""

    cli: Cli
    runtime: Runtime
    shop: int
    sku: int


@pytest.fixture()
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fresh]:
    runtime = Runtime.open(f"sqlite:///{tmp_path / 'channels.db'}")
    runtime.secret_source = lambda: KEY
    monkeypatch.setattr(support, "runtime_factory", lambda: runtime)
    monkeypatch.setenv("COLUMNS", "200")
    shop, sku = seed_tiered_sku(runtime, BurstPlan(spot=3, presale=5))
    yield Fresh(Cli(CliRunner()), runtime, shop, sku)
    runtime.engine.dispose()


def test_sync_places_platform_orders_keeps_an_oversell_and_pushes_the_figure(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, sid, sku = fresh.cli, str(fresh.shop), str(fresh.sku)
    # the double's clock runs 5 s behind: its orders are older than the worker's lag
    with KuaishouDouble(clock=lambda: time.time() - 5) as ks:
        _env(monkeypatch, {"app_key": ks.app_key, "sign_secret": ks.sign_secret})
        _env(monkeypatch, {"access_token": ks.access_token})
        secrets = (ks.sign_secret, ks.access_token)
        channel = _channel_id(
            _add(cli, fresh.shop, "快手旗舰店", "kuaishou", "--server-url", ks.url)
        )
        link = ("channels", "link", "--shop", sid, "--channel", str(channel), "--sku", sku)
        assert cli(*link, "--item", ITEM, "--platform-sku", KS_SKU).exit_code == 0
        ks.set_stock(ITEM, KS_SKU, 20)
        ks.add_order(ITEM, KS_SKU, 2, unit_price_fen=29_900)
        over = ks.add_order(ITEM, KS_SKU, 9, unit_price_fen=29_900)  # more than any tier holds

        first = cli("channels", "sync")
        assert first.exit_code == 0, first.output
        assert re.fullmatch(
            r"\d\d:\d\d:\d\d round 1: 1 figure\(s\) pushed; "
            r"快手旗舰店: 1 order\(s\) placed, 1 oversell incident\(s\)\n",
            first.stdout,
        ), first.output
        assert first.stderr == (  # the worker's log line, as it happened
            f"error: oversell incident: 快手旗舰店 order {over} could not be covered "
            "(insufficient_stock)\n"
        )
        assert ks.stock_of(ITEM, KS_SKU) == 8  # pushed before the orders came in: 3 + 5

        again = cli("channels", "sync", "--rounds", "3")
        assert again.exit_code == 0, again.output
        lines = again.output.splitlines()
        assert len(lines) == 1 and lines[0].endswith("round 1: 1 figure(s) pushed"), lines
        assert ks.stock_of(ITEM, KS_SKU) == 6  # 1 spot + 5 presale left

        listed = cli("channels", "list", "--shop", sid)
        row = _row(listed.output, str(channel))
        (status,) = channel_status(fresh.shop, fresh.runtime.uow(readonly=True))
        assert status.synced_until is not None
        synced = f"{status.synced_until.astimezone(SH):%Y-%m-%d %H:%M:%S}"
        assert row == [
            str(channel), "快手旗舰店", "kuaishou", "1", synced, "2", "0", "0", "1", "¥200.00"
        ]  # fmt: skip

        shown = cli("channels", "incidents", "--shop", sid, "--open")
        assert shown.exit_code == 0, shown.output
        (cells,) = [cells for cells in _rows(shown.output) if over in cells]
        assert cells[1:7] == ["快手旗舰店", over, sku, "9", "¥2,691.00", "¥200.00"]
        assert cells[-1] == "open"
        everything = cli("channels", "incidents", "--shop", sid)
        assert over in everything.output

        ks.set_stock(ITEM, KS_SKU, 50)  # changed by hand in the platform's back office
        dry = cli("channels", "reconcile", "--shop", sid, "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert re.fullmatch(
            rf"快手旗舰店 SKU {sku} \(link \d+\): the store shows 50, its quota is 6 "
            r"— not repaired \(dry run\)\n",
            dry.output,
        ), dry.output
        assert ks.stock_of(ITEM, KS_SKU) == 50
        fixed = cli("channels", "reconcile", "--shop", sid)
        assert fixed.exit_code == 0 and fixed.output.endswith("— repaired\n"), fixed.output
        assert ks.stock_of(ITEM, KS_SKU) == 6
        quiet = cli("channels", "reconcile", "--shop", sid)
        assert quiet.output == "no drift: every store shows its quota\n"

    results = (first, again, listed, shown, everything, dry, fixed, quiet)
    _no_secret(*results)
    assert not [s for r in results for s in secrets if s in r.output + r.stderr]


def test_sync_reports_a_store_it_cannot_reach_in_one_line_each(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, SECRETS)
    _channel_id(_add(fresh.cli, fresh.shop, "快手店", "kuaishou", "--server-url", _dead_url()))
    result = fresh.cli("channels", "sync")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert re.search(r"round 1: .*1 error\(s\)", result.stdout), result.output
    assert "warning: order sync of 快手店 failed: kuaishou open.order.cursor.list: connection" in (
        result.stderr
    )
    _no_secret(result)


def test_a_store_whose_credentials_cannot_be_read_is_a_warning_and_the_others_sync(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, sid, sku = fresh.cli, str(fresh.shop), str(fresh.sku)
    _env(monkeypatch, SECRETS)
    _channel_id(_add(cli, fresh.shop, "旧店", "kuaishou", "--server-url", _dead_url()))
    fresh.runtime.secret_source = lambda: b"y" * 43 + b"="  # the key changed since
    with KuaishouDouble(clock=lambda: time.time() - 5) as ks:
        _env(monkeypatch, {"app_key": ks.app_key, "sign_secret": ks.sign_secret})
        _env(monkeypatch, {"access_token": ks.access_token})
        channel = _channel_id(_add(cli, fresh.shop, "新店", "kuaishou", "--server-url", ks.url))
        link = ("channels", "link", "--shop", sid, "--channel", str(channel), "--sku", sku)
        assert cli(*link, "--item", ITEM, "--platform-sku", KS_SKU).exit_code == 0
        ks.set_stock(ITEM, KS_SKU, 20)
        ks.add_order(ITEM, KS_SKU, 2)
        result = cli("channels", "sync")
        assert ks.stock_of(ITEM, KS_SKU) == 8
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d round 1: 1 figure\(s\) pushed; 新店: 1 order\(s\) placed; 1 error\(s\)\n",
        result.stdout,
    ), result.output
    assert result.stderr == (
        "warning: order sync of 旧店 failed: "
        "the channel's credentials cannot be read with this TIERSTOCK_SECRET_KEY\n"
    )
    _no_secret(result)


def test_sync_refuses_a_round_count_below_one(fresh: Fresh) -> None:
    _refused(fresh.cli("channels", "sync", "--rounds", "0"), "error: --rounds: give 1 or more")


def test_sync_follow_stops_after_the_rounds_asked_for(fresh: Fresh) -> None:
    result = fresh.cli("channels", "sync", "--follow", "--rounds", "2")
    assert result.exit_code == 0, result.output
    assert result.output == "syncing the stores; Ctrl-C to stop\nstopped after 2 round(s)\n"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_sync_follow_exits_cleanly_on_a_signal(fresh: Fresh, signum: signal.Signals) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    before = signal.getsignal(signum)

    def send_once_handled() -> None:
        deadline = time.monotonic() + 20
        while signal.getsignal(signum) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # a round or two
        os.kill(os.getpid(), signum)

    sender = threading.Thread(target=send_once_handled, daemon=True)
    sender.start()
    result = fresh.cli("channels", "sync", "--follow")
    sender.join(5)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"syncing the stores; Ctrl-C to stop\nstopped after \d+ round\(s\)\n", result.output
    )
    assert signal.getsignal(signum) == before  # the caller's handler is back
