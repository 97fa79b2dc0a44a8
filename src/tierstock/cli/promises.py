"""`tierstock promises …`: a promise is a paid line's ship-by deadline and its late cost (§7);
a broken one leaves a compensation record the buyer may claim (claim, pay, waive, agree).

Services are imported inside the commands (see ``cli/support.py``): ``--help`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from tierstock.cli.support import (
    ACTOR,
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
from tierstock.domain.compensation import (
    CompensationKind,
    CompensationRecord,
    CompensationState,
    yuan,
)
from tierstock.domain.eligibility import percent
from tierstock.domain.fulfilment import RiskLevel, Urgency

if TYPE_CHECKING:
    from tierstock.services.promises import PromiseBoard

app = NounApp(
    help="Shipping promises: urgency, scan, risk, compensation claims (docs/rules.md §7).",
    invoke_without_command=True,
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
STATE_STYLE = {
    CompensationState.OWED: "yellow",
    CompensationState.CLAIMED: "bold red",
    CompensationState.AGREED: "cyan",
    CompensationState.PAID: "green",
    CompensationState.WAIVED: "green",
}


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
    from tierstock.services import promises

    runtime, zone = open_shop(shop)
    found = promises.promise_board(
        shop, runtime.uow(readonly=True), due_within_hours=due_within, limit=limit
    )
    _print_board(found, shop, zone)


def _state(r: CompensationRecord) -> str:
    """A record as the board shows it: ``unshipped compensation owed, ¥36.00 to pay``."""
    return (
        f"{r.kind.value} compensation [{STATE_STYLE[r.state]}]{r.state.value}[/], "
        f"{yuan(r.outstanding_fen)} to pay"
    )


def _print_board(found: PromiseBoard, shop: int, zone: ZoneInfo) -> None:
    table = new_table(
        *BOARD_COLUMNS,
        right=MONEY_COLUMNS,
        title=f"Open promises of shop {shop} at {local_time(found.now, zone)} ({zone.key})",
    )
    for v in found.lines:
        e, cost = v.exposure, v.new_cost
        table.add_row(
            f"[{URGENCY_STYLE[e.urgency]}]{e.urgency.value}[/]",
            str(v.line.order_id),
            str(v.line.line_no),
            v.line.tier,
            yuan(v.line.paid_fen),
            local_time(v.line.deadline, zone),
            yuan(cost.now_fen),
            "—" if cost.next_fen is None else yuan(cost.next_fen),
            local_time(cost.next_at, zone),
        )
    out.print(table)
    if not found.lines:
        out.print("no open promises")
    for v in found.lines:  # recorded already: a claim to settle, not a fresh debt
        if v.record is not None:
            out.print(
                f"order {v.line.order_id} line {v.line.line_no}: {_state(v.record)} "
                "(tierstock promises claim|pay|waive|agree)"
            )


@app.command("scan")
def scan(
    shop: Annotated[int | None, typer.Option("--shop", help="only this shop")] = None,
    chunk: Annotated[
        int | None, typer.Option(min=1, help="line ids per transaction (default 250,000)")
    ] = None,
) -> None:
    """Record due late/unshipped compensation; idempotent, safe every minute from cron."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tierstock.services import promises

    runtime = open_runtime()
    cmd = promises.ScanPromises(shop) if chunk is None else promises.ScanPromises(shop, chunk)
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

        report = promises.scan_promises(cmd, runtime.uow, advance)
    out.print(
        f"scanned {report.line_ids:,} line ids in {report.shops} shop(s) in "
        f"{report.seconds:.2f} s: recorded "
        f"{report.recorded[CompensationKind.LATE]} late, "
        f"{report.recorded[CompensationKind.UNSHIPPED]} unshipped"
    )


@app.command("risk")
def risk(shop: ShopOpt) -> None:
    """Mass non-fulfilment share against the pack's threshold, and the exposure in yuan."""
    from tierstock.services import promises

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
    if r.by_state:
        states = ", ".join(f"{t.records} {state.value}" for state, t in sorted(r.by_state.items()))
        out.print(f"still to pay: {yuan(r.outstanding_fen)} ({states})")
    if r.projected_level is not RiskLevel.OK:
        err.print(f"[yellow]warning:[/] mass non-fulfilment risk is {r.projected_level.value}")


# --- compensation as a claim (docs/rules.md §7.2) -------------------------------------

KindOpt = Annotated[str | None, typer.Option(help="late | unshipped: only when the line has both")]
NoteOpt = Annotated[str, typer.Option(help="what the buyer said, and how")]


@app.command("claims")
def claims(
    shop: ShopOpt,
    state: Annotated[
        list[str] | None, typer.Option(help="only these states (owed, claimed, …); repeatable")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 200,
) -> None:
    """Recorded compensation and where each stands (owed, claimed, paid, waived, agreed)."""
    from tierstock.services import promises

    runtime, zone = open_shop(shop)
    try:
        wanted = None if not state else tuple(CompensationState(s) for s in state)
    except ValueError:
        raise fail(
            "--state must be one of: " + ", ".join(s.value for s in CompensationState)
        ) from None
    found = promises.list_compensations(
        shop, runtime.uow(readonly=True), states=wanted, limit=limit
    )
    table = new_table(
        "order",
        "line",
        "kind",
        "amount",
        "state",
        "to pay",
        "recorded",
        "by / note",
        right=("amount", "to pay"),
        title=f"Compensation of shop {shop} ({zone.key})",
    )
    for r in found:
        table.add_row(
            str(r.order_id),
            str(r.line_no),
            r.kind.value,
            yuan(r.amount_fen),
            f"[{STATE_STYLE[r.state]}]{r.state.value}[/]",
            yuan(r.outstanding_fen),
            local_time(r.created_at, zone),
            " · ".join(x for x in (r.state_by, r.state_note) if x),
        )
    out.print(table)
    if not found:
        out.print("no compensation recorded")


def _change(
    action: str,
    shop: int,
    order: int,
    line: int,
    note: str,
    kind: str | None,
    amount_fen: int | None = None,
) -> None:
    from tierstock.services import promises

    r = promises.change_compensation(
        promises.ChangeCompensation(shop, order, line, action, ACTOR, note, amount_fen, kind),
        open_runtime().uow(),
    )
    out.print(
        f"order {order} line {line}: {r.kind.value} compensation {r.state.value}; "
        f"still to pay {yuan(r.outstanding_fen)}"
    )


@app.command("claim")
def claim(order: int, line: int, shop: ShopOpt, note: NoteOpt = "", kind: KindOpt = None) -> None:
    """The buyer claims the line's compensation: the merchant owes it."""
    _change("claim", shop, order, line, note, kind)


@app.command("pay")
def pay(order: int, line: int, shop: ShopOpt, note: NoteOpt = "", kind: KindOpt = None) -> None:
    """The merchant paid it (the agreed amount, if one was agreed). Final."""
    _change("pay", shop, order, line, note, kind)


@app.command("waive")
def waive(order: int, line: int, note: str, shop: ShopOpt, kind: KindOpt = None) -> None:
    """The buyer waived it (NOTE says how). Final."""
    _change("waive", shop, order, line, note, kind)


@app.command("agree")
def agree(
    order: int,
    line: int,
    amount_fen: Annotated[int, typer.Argument(help="agreed amount in fen, at most the rule's")],
    note: str,
    shop: ShopOpt,
    kind: KindOpt = None,
) -> None:
    """The parties agreed another amount (at most the rule's); pay it afterwards."""
    _change("agree", shop, order, line, note, kind, amount_fen)
