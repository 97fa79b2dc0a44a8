"""`tierstock capacity …`: capacity (产能确认) is what a supplier will deliver, and by when (§5).

Whoever runs the CLI holds the database, so it acts as the shop's owner: it plans,
and it confirms, revises or declines for a supplier that has no API key of its own.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from tierstock.cli.support import (
    ACTOR,
    NounApp,
    ShopOpt,
    fail,
    local_time,
    new_table,
    open_runtime,
    open_shop,
    out,
    print_items,
    shop_zone,
)
from tierstock.domain.capacity import AtRiskLine, BatchAction
from tierstock.domain.compensation import yuan

app = NounApp(
    help="Supplier capacity 产能确认: suppliers, plans, confirm, receive, promises at risk.",
    no_args_is_help=True,
)

SkuOpt = Annotated[int, typer.Option("--sku", help="SKU id", min=1)]
BatchArg = Annotated[int, typer.Argument(help="batch id", min=1)]
NoteOpt = Annotated[str, typer.Option(help="why (kept in the batch's history)")]


def _plan(text: str) -> tuple[int, date]:
    """``500@2026-12-10`` → (500, 10 Dec 2026)."""
    try:
        quantity, day = text.split("@")
        return int(quantity), date.fromisoformat(day)
    except ValueError:
        raise fail(f"batch {text} is not QUANTITY@YYYY-MM-DD") from None


@app.command("supplier")
def add_supplier(shop: ShopOpt, name: Annotated[str, typer.Argument(help="supplier name")]) -> None:
    """Add a supplier to the shop."""
    from tierstock.services import capacity

    made = capacity.create_supplier(shop, name, ACTOR, open_runtime().uow())
    out.print(f"supplier {made.id}: {escape(made.name)}")


@app.command("suppliers")
def list_suppliers(shop: ShopOpt) -> None:
    """The shop's suppliers."""
    from tierstock.services import capacity

    table = new_table("id", "name")
    for s in capacity.list_suppliers(shop, open_runtime().uow(readonly=True)):
        table.add_row(str(s.id), escape(s.name))
    out.print(table)


@app.command("propose")
def propose(
    shop: ShopOpt,
    sku: SkuOpt,
    supplier: Annotated[int, typer.Option(help="supplier id", min=1)],
    batches: Annotated[list[str], typer.Argument(help="QUANTITY@YYYY-MM-DD …")],
    note: NoteOpt = "",
) -> None:
    """Record what a supplier will deliver and by when (e.g. 500@2026-12-10)."""
    from tierstock.services import capacity_plans

    plans = tuple(_plan(b) for b in batches)
    cmd = capacity_plans.ProposeCapacity(shop, sku, supplier, plans, ACTOR, note)
    made = capacity_plans.propose(cmd, open_runtime().uow())
    out.print(
        f"proposed batches {', '.join(str(b.id) for b in made)} "
        "(sellable once the supplier confirms)"
    )


@app.command("list")
def list_batches(shop: ShopOpt, sku: SkuOpt) -> None:
    """A SKU's batches: status, promised units, what they add to presale."""
    from tierstock.services import capacity

    runtime = open_runtime()
    got = capacity.sku_capacity(shop, sku, runtime.uow(readonly=True))
    p = got.presale
    out.print(
        f"presale tier: {p.quantity} units, {p.sold} promised, {p.available} "
        f"left ({got.unbatched} the merchant's own)"
    )
    table = new_table(
        "batch", "supplier", "quantity", "ready on", "status", "promised", "in presale", "late"
    )
    for v in got.batches:
        b = v.batch
        table.add_row(
            str(b.id),
            str(b.supplier_id),
            str(b.quantity),
            b.ready_on.isoformat(),
            b.status.value,
            str(v.promised),
            str(b.in_tier),
            "late" if v.late else "",
        )
    out.print(table)


def _act(
    shop: int,
    batch: int,
    action: BatchAction,
    note: str,
    quantity: int | None = None,
    ready_on: date | None = None,
) -> None:
    from tierstock.services import capacity_plans

    runtime = open_runtime()
    done = capacity_plans.act(
        capacity_plans.BatchCommand(shop, batch, action, None, quantity, ready_on, note, ACTOR),
        runtime.uow(),
    )
    b = done.batch
    out.print(
        f"batch {b.id}: {b.status.value}, {b.quantity} by {b.ready_on.isoformat()}"
        f", adds {b.in_tier} to presale"
    )
    if done.moved_to_spot:
        out.print(f"{done.moved_to_spot} unpromised units moved to spot stock")
    if done.at_risk:
        _risk_table(list(done.at_risk), shop_zone(runtime, shop))


@app.command("confirm")
def confirm(shop: ShopOpt, batch: BatchArg, note: NoteOpt = "") -> None:
    """Confirm a batch for an offline supplier: its units become sellable presale."""
    _act(shop, batch, BatchAction.CONFIRMED, note)


@app.command("revise")
def revise(
    shop: ShopOpt,
    batch: BatchArg,
    quantity: Annotated[int, typer.Option(help="units", min=1)],
    ready_on: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")],
    note: NoteOpt = "",
) -> None:
    """Revise a batch for an offline supplier (it is then confirmed with the figures)."""
    _act(shop, batch, BatchAction.REVISED, note, quantity, ready_on.date())


@app.command("decline")
def decline(shop: ShopOpt, batch: BatchArg, note: NoteOpt = "") -> None:
    """Decline a batch for an offline supplier: it stops backing presale units."""
    _act(shop, batch, BatchAction.DECLINED, note)


@app.command("receive")
def receive(shop: ShopOpt, batch: BatchArg, note: NoteOpt = "") -> None:
    """The batch arrived: promised units stay promised, the rest becomes spot stock."""
    _act(shop, batch, BatchAction.RECEIVED, note)


def _risk_table(lines: list[AtRiskLine], zone: ZoneInfo) -> None:
    table = new_table(
        "order",
        "line",
        "qty",
        "ship by",
        "batch",
        "reason",
        "can ship",
        "exposure ¥",
        title="promises at risk",
        title_justify="left",
    )
    for x in lines:
        table.add_row(
            str(x.line.order_id),
            str(x.line.line_no),
            str(x.line.quantity),
            local_time(x.line.ship_by, zone),
            str(x.batch_id or "—"),
            x.reason.value,
            local_time(x.expected_ship, zone),
            yuan(x.exposure_fen),
        )
    out.print(table)


@app.command("risk")
def risk(
    shop: ShopOpt,
    sku: SkuOpt,
    hours: Annotated[int, typer.Option(help="pace over the last N hours", min=1)] = 6,
) -> None:
    """Promises a late or shrunk batch can no longer keep, and the sales pace."""
    from tierstock.services import capacity

    runtime, zone = open_shop(shop)
    r = capacity.capacity_risk(shop, sku, runtime.uow(readonly=True), hours)
    p = r.pace
    out.print(
        f"pace: {p.units_sold} presale units in {p.hours} h ({p.per_hour:.1f}/h); "
        f"{p.remaining} confirmed units left; runs out {local_time(p.runs_out_at, zone)}"
    )
    print_items("late batches", r.late_batches)
    print_items("revised down", r.revised_down)
    if r.lines:
        _risk_table(list(r.lines), zone)
        out.print(f"compensation exposure: {yuan(r.exposure_fen)}")
    else:
        out.print("no promises at risk")
