"""`tierstock promises …` and `tierstock eligibility …` (Typer + Rich) — docs/rules.md §6–7.

Every refusal prints one line on stderr and exits 1 (the caller's ``main`` also maps
``DomainError``); nothing here touches the database except through services.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tierstock.cli_support import err, fail, guard, local_time, open_runtime, out, shop_zone
from tierstock.domain.compensation import CompensationKind, yuan
from tierstock.domain.eligibility import ScorePoint, percent, score
from tierstock.domain.fulfilment import RiskLevel, Urgency
from tierstock.services import delays, eligibility, promises, shipping
from tierstock.services.runtime import Runtime

promises_app = typer.Typer(
    help="Shipping promises: urgency, scan, risk (docs/rules.md §7).", invoke_without_command=True
)
eligibility_app = typer.Typer(
    help="Tiered-shipping eligibility (docs/rules.md §6).", invoke_without_command=True
)
shipments_app = typer.Typer(help="Ship, cancel as unshippable, delay a line.", no_args_is_help=True)


#: How commands get a runtime; tests replace it with one on their own database.
runtime_factory: Callable[[], Runtime] = open_runtime

ShopOpt = Annotated[int, typer.Option("--shop", help="shop id")]
MaybeShop = Annotated[int | None, typer.Option("--shop", help="shop id")]
URGENCY_STYLE = {
    Urgency.LAPSED: "bold red",
    Urgency.OVERDUE: "red",
    Urgency.DUE_SOON: "yellow",
    Urgency.ON_TRACK: "green",
}
RISK_STYLE = {RiskLevel.OK: "green", RiskLevel.WARNING: "yellow", RiskLevel.BREACHED: "bold red"}


@promises_app.callback()
def promises_board(
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

    def run() -> None:
        assert shop is not None
        runtime = runtime_factory()
        zone = shop_zone(runtime, shop)
        board = promises.promise_board(
            shop, runtime.uow(readonly=True), due_within_hours=due_within, limit=limit
        )
        table = Table(
            title=f"Open promises of shop {shop} at {local_time(board.now, zone)} ({zone.key})"
        )
        for col in (
            "urgency",
            "order",
            "line",
            "tier",
            "paid",
            "deadline",
            "owes now",
            "next step",
            "from",
        ):
            table.add_column(
                col, justify="right" if col in ("paid", "owes now", "next step") else "left"
            )
        for v in board.lines:
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
        if not board.lines:
            out.print("no open promises")

    guard(run)


@promises_app.command("scan")
def promises_scan(
    shop: Annotated[int | None, typer.Option("--shop", help="only this shop")] = None,
    chunk: Annotated[
        int, typer.Option(min=1, help="line ids per transaction")
    ] = promises.SCAN_CHUNK_LINES,
) -> None:
    """Record due late/unshipped compensation; idempotent, safe every minute from cron."""

    def run() -> None:
        runtime = runtime_factory()
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

            report = promises.scan_promises(
                promises.ScanPromises(shop, chunk), runtime.uow, advance
            )
        out.print(
            f"scanned {report.line_ids:,} line ids in {report.shops} shop(s) in "
            f"{report.seconds:.2f} s: recorded "
            f"{report.recorded[CompensationKind.LATE]} late, "
            f"{report.recorded[CompensationKind.UNSHIPPED]} unshipped"
        )

    guard(run)


@promises_app.command("risk")
def promises_risk(shop: ShopOpt) -> None:
    """Mass non-fulfilment share against the pack's threshold, and the exposure in yuan."""

    def run() -> None:
        r = promises.risk_report(shop, runtime_factory().uow(readonly=True))
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

    guard(run)


@shipments_app.command("line")
def ship(order: int, line: int, carrier: str, tracking_no: str, shop: ShopOpt) -> None:
    """Record the shipment of one order line."""

    def run() -> None:
        x = shipping.ship_line(
            shipping.ShipLine(shop, order, line, carrier, tracking_no, actor="cli"),
            runtime_factory().uow(),
        )
        out.print(f"order {order} line {line} shipped: {x.outcome}")

    guard(run)


@shipments_app.command("unshippable")
def unshippable(order: int, line: int, reason: str, shop: ShopOpt) -> None:
    """Cancel a line that cannot ship; records the unshipped compensation."""

    def run() -> None:
        done = shipping.cancel_unshippable(
            shipping.CancelUnshippable(shop, order, line, reason, "cli"), runtime_factory().uow()
        )
        out.print(f"order {order} line {line} cancelled; owes {yuan(done.compensation_fen)}")

    guard(run)


@shipments_app.command("delay")
def delay(
    order: int,
    line: int,
    kind: Annotated[str, typer.Argument(help="delayed | appointment | negotiated")],
    new_ship_by: Annotated[datetime, typer.Argument(help="ISO time with offset")],
    reason: str,
    shop: ShopOpt,
    consent: Annotated[bool, typer.Option(help="buyer's consent recorded")] = False,
) -> None:
    """Move a line's deadline with one of the three delay tools."""

    def run() -> None:
        d = delays.request_delay(
            delays.RequestDelay(shop, order, line, kind, reason, new_ship_by, consent, "cli"),
            runtime_factory().uow(),
        )
        out.print(f"order {order} line {line} now due {d.new_ship_by.isoformat()}")

    guard(run)


@eligibility_app.callback()
def eligibility_show(ctx: typer.Context, shop: MaybeShop = None) -> None:
    """Store score and spot-order share against the thresholds, trend and culprits."""
    if ctx.invoked_subcommand is not None:
        return
    if shop is None:
        raise fail("say which shop: --shop ID")

    def run() -> None:
        assert shop is not None
        r = eligibility.eligibility_report(shop, runtime_factory().uow(readonly=True))
        v, rules = r.verdict, r.rules
        verdict = "[green]eligible[/]" if v.eligible else "[bold red]not eligible[/]"
        out.print(f"tiered shipping for shop {shop}: {verdict}")
        for reason in v.reasons:
            out.print(f"  - {reason}")
        table = Table(title="figures")
        for col in ("figure", "value", "threshold"):
            table.add_column(col)
        table.add_row(
            "store score (店铺分)", score(v.score_centi), f"≥ {score(rules.min_store_score_centi)}"
        )
        table.add_row(
            f"spot-order share, {rules.window_days} days",
            f"{percent(v.share_bp)} ({r.share.spot_lines}/{r.share.paid_lines})",
            f"≥ {percent(rules.min_spot_share_bp)} from {rules.min_paid_lines} lines",
        )
        out.print(table)
        out.print(
            "score trend: " + ", ".join(f"{p.scored_on} {score(p.score_centi)}" for p in r.scores)
            or "score trend: none"
        )
        out.print(
            "share trend: "
            + ", ".join(f"{p.until} {percent(p.share.share_bp)}" for p in r.share_trend)
        )
        for p in r.pulling:
            out.print(
                f"pulls the share down: {p.name} (product {p.product_id}): "
                f"{p.presale_lines} of {p.paid_lines} lines presale"
            )
        for sku in r.non_compliant:
            out.print(
                f"[yellow]non-compliant tiered SKU[/] {sku.code} ({sku.product_name}): "
                "keeps selling; " + "; ".join(v.reasons)
            )

    guard(run)


def _centi(text: str) -> int:
    try:
        return int(Decimal(text.strip()) * 100)
    except InvalidOperation:
        raise fail(f"not a score: {text!r}") from None


@eligibility_app.command("score")
def add_score(
    value: str,
    shop: ShopOpt,
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
) -> None:
    """Enter the store score of one day."""

    def run() -> None:
        when = date.fromisoformat(day) if day else date.today()
        eligibility.record_scores(
            eligibility.RecordScores(shop, (ScorePoint(when, _centi(value)),), "cli"),
            runtime_factory().uow(),
        )
        out.print(f"store score {value} recorded for {when}")

    guard(run)


@eligibility_app.command("import")
def import_scores(path: Path, shop: ShopOpt) -> None:
    """Import a CSV of `date,score` rows (a header row is skipped)."""

    def run() -> None:
        points = []
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                if not row or not row[0][:1].isdigit():
                    continue
                points.append(ScorePoint(date.fromisoformat(row[0].strip()), _centi(row[1])))
        n = eligibility.record_scores(
            eligibility.RecordScores(shop, tuple(points), "cli"), runtime_factory().uow()
        )
        out.print(f"{n} store scores imported")

    guard(run)
