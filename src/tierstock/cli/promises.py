"""`tierstock promises …`: a promise is a paid line's ship-by deadline and its late cost (§7)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tierstock.cli.support import (
    NounApp,
    ShopOpt,
    err,
    fail,
    local_time,
    new_table,
    open_runtime,
    open_shop,
    out,
)
from tierstock.domain.compensation import CompensationKind, yuan
from tierstock.domain.eligibility import percent
from tierstock.domain.fulfilment import RiskLevel, Urgency
from tierstock.services import promises

app = NounApp(
    help="Shipping promises: urgency, scan, risk (docs/rules.md §7).", invoke_without_command=True
)

MaybeShop = Annotated[int | None, typer.Option("--shop", help="shop id")]
URGENCY_STYLE = {
    Urgency.LAPSED: "bold red",
    Urgency.OVERDUE: "red",
    Urgency.DUE_SOON: "yellow",
    Urgency.ON_TRACK: "green",
}
RISK_STYLE = {RiskLevel.OK: "green", RiskLevel.WARNING: "yellow", RiskLevel.BREACHED: "bold red"}
BOARD_COLUMNS = (
    "urgency",
    "order",
    "line",
    "tier",
    "paid",
    "deadline",
    "owes now",
    "next step",
    "from",
)
MONEY_COLUMNS = ("paid", "owes now", "next step")


@app.callback()
def board(
    ctx: typer.Context,
    shop: MaybeShop = None,
    due_within: Annotated[int | None, typer.Option(help="only lines due within N hours")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """Every unshipped line by urgency, with its compensation now and at the next step."""
    if ctx.invoked_subcommand is not None:
        return
    if shop is None:
        raise fail("say which shop: --shop ID")
    runtime, zone = open_shop(shop)
    found = promises.promise_board(
        shop, runtime.uow(readonly=True), due_within_hours=due_within, limit=limit
    )
    _print_board(found, shop, zone)


def _print_board(found: promises.PromiseBoard, shop: int, zone: ZoneInfo) -> None:
    table = new_table(
        *BOARD_COLUMNS,
        right=MONEY_COLUMNS,
        title=f"Open promises of shop {shop} at {local_time(found.now, zone)} ({zone.key})",
    )
    for v in found.lines:
        e = v.exposure
        table.add_row(
            f"[{URGENCY_STYLE[e.urgency]}]{e.urgency.value}[/]",
            str(v.line.order_id),
            str(v.line.line_no),
            v.line.tier,
            yuan(v.line.paid_fen),
            local_time(v.line.deadline, zone),
            yuan(e.now_fen),
            "—" if e.next_fen is None else yuan(e.next_fen),
            local_time(e.next_at, zone),
        )
    out.print(table)
    if not found.lines:
        out.print("no open promises")


@app.command("scan")
def scan(
    shop: Annotated[int | None, typer.Option("--shop", help="only this shop")] = None,
    chunk: Annotated[
        int, typer.Option(min=1, help="line ids per transaction")
    ] = promises.SCAN_CHUNK_LINES,
) -> None:
    """Record due late/unshipped compensation; idempotent, safe every minute from cron."""
    runtime = open_runtime()
    with Progress(
        TextColumn("scanning promises"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} line ids"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("scan", total=0)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = promises.scan_promises(promises.ScanPromises(shop, chunk), runtime.uow, advance)
    out.print(
        f"scanned {report.line_ids:,} line ids in {report.shops} shop(s) in "
        f"{report.seconds:.2f} s: recorded "
        f"{report.recorded[CompensationKind.LATE]} late, "
        f"{report.recorded[CompensationKind.UNSHIPPED]} unshipped"
    )


@app.command("risk")
def risk(shop: ShopOpt) -> None:
    """Mass non-fulfilment share against the pack's threshold, and the exposure in yuan."""
    r = promises.risk_report(shop, open_runtime().uow(readonly=True))
    style = RISK_STYLE[r.level]
    out.print(
        f"late + unshipped: {r.failed_lines} of {r.due_lines} lines due in the "
        f"last {r.window_days} days = [{style}]{percent(r.share_bp)}[/] "
        f"(warning from {percent(r.warning_bp)}, violation at "
        f"{percent(r.threshold_bp)}): [{style}]{r.level.value}[/]"
    )
    out.print(
        f"if the {r.overdue_open_lines} overdue open lines fail too: "
        f"{percent(r.projected_share_bp)} → {r.projected_level.value}"
    )
    out.print(
        f"exposure: {yuan(r.exposure.overdue_fen)} if the overdue lines ship now; "
        f"{yuan(r.exposure.due_soon_fen)} more if the {r.exposure.due_soon_lines} "
        "lines due soon are late"
    )
    for kind, (n, fen) in sorted(r.recorded.items()):
        out.print(f"recorded {kind.value}: {n} lines, {yuan(fen)}")
    if r.projected_level is not RiskLevel.OK:
        err.print(f"[yellow]warning:[/] mass non-fulfilment risk is {r.projected_level.value}")
