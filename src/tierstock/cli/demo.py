"""`tierstock demo`: a demo is a seeded shop whose tiered SKU a burst of buyers pays for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.panel import Panel

from tierstock.cli.support import NounApp, display_zone, fail, new_table, open_runtime, out
from tierstock.domain.sales_forms import Tier

if TYPE_CHECKING:
    from tierstock.services.channels.demo import ChannelsPlan, ChannelsReport, StoreResult
    from tierstock.services.demo import BurstReport

app = NounApp()


@app.command()
def demo(
    buyers: Annotated[int, typer.Option(min=1, max=100_000)] = 1000,
    workers: Annotated[int, typer.Option(min=1, max=256, help="concurrent buyers")] = 32,
    spot: Annotated[int, typer.Option(min=0)] = 100,
    presale: Annotated[int, typer.Option(min=0)] = 400,
    max_quantity: Annotated[
        int, typer.Option(min=1, max=10, help="each buyer wants 1..N units")
    ] = 1,
    channels: Annotated[
        bool,
        typer.Option(
            "--channels",
            help="sell the pool in two simulated stores (Kuaishou live-locked, Douyin) "
            "with a channel worker alongside, on a throwaway SQLite database",
        ),
    ] = False,
) -> None:
    """Seed a shop with a tiered SKU and let a live-stream burst of buyers pay at once."""
    if channels:
        from tierstock.services.channels.demo import ChannelsPlan  # the doubles: on use only

        _channels_demo(
            ChannelsPlan(
                buyers=buyers,
                spot=spot,
                presale=presale,
                max_quantity=max_quantity,
                burst_seconds=max(3.0, buyers / 100),  # 100 buyers a second
            )
        )
        return
    runtime = open_runtime()
    from rich.progress import Progress

    from tierstock.services.demo import BurstPlan, run_burst

    plan = BurstPlan(
        buyers=buyers, workers=workers, spot=spot, presale=presale, max_quantity=max_quantity
    )
    with Progress(console=out, transient=True) as progress:
        task = progress.add_task("buyers paying", total=buyers)
        report = run_burst(runtime, plan, on_paid=lambda: progress.advance(task))
    _print_report(report, display_zone())
    if report.oversold_units or report.units_held_twice or not report.ledger_ok:
        raise fail("the burst broke an invariant (see the summary above)")


def _print_report(r: BurstReport, zone: ZoneInfo) -> None:
    figures = ("stock", "units sold", "orders")
    table = new_table(
        *("tier", *figures, "ship-by promised (Asia/Shanghai)"),
        right=figures,
        title=f"Live-stream burst: {r.plan.buyers} buyers, {r.plan.workers} at once",
    )
    stock = {Tier.SPOT: r.plan.spot, Tier.PRESALE: r.plan.presale}
    for tier in Tier:
        span = r.promises.get(tier)
        text = "—"
        if span:
            fmt = "%m-%d %H:%M"
            text = f"{span[0].astimezone(zone):{fmt}} … {span[1].astimezone(zone):{fmt}}"
        table.add_row(
            tier.value,
            str(stock[tier]),
            str(r.units_sold[tier]),
            str(r.lines_by_tier.get(tier, 0)),
            text,
        )
    out.print(table)
    _print_summary(r)


def _print_summary(r: BurstReport) -> None:
    ok = "[green]passed[/]" if r.ledger_ok else "[red]FAILED[/]"
    out.print(
        Panel.fit(
            f"buyers refused (sold out): {r.buyers_refused}\n"
            f"oversold units: {r.oversold_units}   units sold twice: {r.units_held_twice}\n"
            f"ledger check: {ok}\n"
            f"{r.plan.buyers / r.seconds:,.0f} orders/s over {r.seconds:.2f} s "
            f"(shop {r.shop_id}, SKU {r.sku_id})",
            title="summary",
        )
    )


# --- demo --channels ------------------------------------------------------------------


def _channels_demo(plan: ChannelsPlan) -> None:
    from rich.progress import Progress

    from tierstock.services.channels.demo import run_channels_demo, throwaway_database

    with throwaway_database() as runtime, Progress(console=out, transient=True) as progress:
        step = progress.add_task("opening two stores", total=None)
        buyers = progress.add_task("buyers paying", total=plan.buyers, visible=False)

        def phase(text: str) -> None:
            progress.update(step, description=text)
            if "buyers" in text:
                progress.update(buyers, visible=True)

        report = run_channels_demo(
            runtime, plan, on_buyer=lambda: progress.advance(buyers), on_phase=phase
        )
    _print_channels(report)
    if report.problems:
        raise fail("the channels demo broke an invariant: " + "; ".join(report.problems))


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def _print_channels(r: ChannelsReport) -> None:
    """One column per store: what its buyers did, what the pool covered, what it cost."""
    table = new_table(
        "",
        *(escape(f"{s.name} ({s.platform})") for s in r.stores),
        right=[escape(f"{s.name} ({s.platform})") for s in r.stores],
        title=f"Live burst over two stores: {r.plan.rule()}",
    )
    rows: list[tuple[str, Callable[[StoreResult], str]]] = [
        ("buyers", lambda s: str(s.buyers)),
        ("refused (store showed too few)", lambda s: str(s.refused)),
        ("units paid", lambda s: str(s.units_paid)),
        ("units the pool covered", lambda s: str(s.units_placed)),
        ("orders recorded", lambda s: f"{s.recorded} of {s.orders}"),
        ("pushes received", lambda s: str(s.pushes)),
        ("oversell incidents", lambda s: str(s.incidents)),
        ("units oversold", lambda s: str(s.incident_units)),
        ("exposure", lambda s: _yuan(s.exposure_fen)),
        ("shows / quota at the end", lambda s: f"{s.figure} / {s.quota}"),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(s) for s in r.stores))
    out.print(table)
    pool = "   ".join(
        f"{t.value} {r.pool_before.get(t, 0)} → {r.pool_after.get(t, 0)}" for t in Tier
    )
    converged = (
        f"{r.converged_s:.2f} s after the burst's end"
        if r.converged_s is not None
        else f"[red]not within {r.plan.settle_s:.0f} s[/]"
    )
    checks = "\n".join(f"[red]FAILED[/] {escape(p)}" for p in r.problems) or "[green]passed[/]"
    notes = ""
    if r.worker_errors:
        first = escape(r.worker_errors[0])
        notes = f"\nworker warnings: {len(r.worker_errors)} (the first: {first})"
    out.print(
        Panel.fit(
            f"pool, units unsold: {pool}\n"
            f"{r.plan.buyers} buyers over {r.burst_s:.1f} s; "
            f"{r.plan.latency_s * 1000:.0f} ms per platform call\n"
            f"every store shows its quota: {converged}\n"
            f"oversold across stores: {r.oversold_units} units, "
            f"exposure {_yuan(sum(s.exposure_fen for s in r.stores))}\n"
            f"ledger = stock, no tier negative,\n"
            f"each platform order recorded and placed once: {checks}{notes}\n"
            f"(shop {r.shop_id}, SKU {r.sku_id}, on a throwaway SQLite database)",
            title="summary",
        )
    )
