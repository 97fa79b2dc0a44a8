"""`tierstock demo`: a demo is a seeded shop whose tiered SKU a burst of buyers pays for."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.panel import Panel
from rich.progress import Progress
from rich.table import Table

from tierstock.cli.support import NounApp, display_zone, fail, open_runtime, out
from tierstock.domain.sales_forms import Tier
from tierstock.services.demo import BurstPlan, BurstReport, run_burst

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
) -> None:
    """Seed a shop with a tiered SKU and let a live-stream burst of buyers pay at once."""
    runtime = open_runtime()
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
    table = Table(title=f"Live-stream burst: {r.plan.buyers} buyers, {r.plan.workers} at once")
    table.add_column("tier")
    table.add_column("stock", justify="right")
    table.add_column("units sold", justify="right")
    table.add_column("orders", justify="right")
    table.add_column("ship-by promised (Asia/Shanghai)")
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
