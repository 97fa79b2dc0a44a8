"""`tierstock plan …`: a plan is a live session simulated before it starts (docs/rules.md §8).

Example: ``tierstock plan --shop 1 --sku 7 --buyers 5000 --curve spike --minutes 90
--quantity 1:6 --quantity 2:3 --batch 500@2026-12-01 --slip-days 3 --seed 7``.
Every refusal prints one line on stderr and exits 1; nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from tierstock.cli.support import NounApp, ShopOpt, fail, new_table, open_runtime, out
from tierstock.domain.compensation import yuan
from tierstock.domain.eligibility import ShareCount, percent
from tierstock.domain.plan import MINUTE, MinutePoint
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec

if TYPE_CHECKING:
    from tierstock.services import planner

app = NounApp(
    help="Simulate a live session: sell-out, promises, share, risk (docs/rules.md §8).",
    invoke_without_command=True,
)

BATCH, POINT, QUANTITY = "QTY@YYYY-MM-DD", "MINUTE:WEIGHT", "QTY:WEIGHT"  # the values' shapes

Batches = Annotated[
    list[str] | None,
    typer.Option(
        metavar=BATCH,
        help="confirmed capacity to try instead of the SKU's presale, e.g. 500@2026-12-01 "
        "(repeat for several batches)",
    ),
]
Points = Annotated[
    list[str] | None,
    typer.Option(
        metavar=POINT,
        help="a point of your own curve instead of --curve: buyers' weight at that minute, "
        "linear between points, e.g. 0:1 --point 10:5 (repeat)",
    ),
]
Quantities = Annotated[
    list[str] | None,
    typer.Option(
        metavar=QUANTITY,
        help="quantity mix: buyers take QTY units with this weight, e.g. 1:6 "
        "(repeat; default: every buyer takes 1)",
    ),
]
A = TypeVar("A")
B = TypeVar("B")


def _pairs(
    values: list[str] | None,
    what: str,
    shape: str,
    first: Callable[[str], A],
    second: Callable[[str], B],
) -> list[tuple[A, B]]:
    """``A<sep>B`` option values (``shape`` as help spells it, e.g. ``QTY@YYYY-MM-DD``),
    each part converted; a bad one is a readable error."""
    sep = "@" if "@" in shape else ":"
    pairs = []
    for v in values or []:
        left, found, right = v.partition(sep)
        try:
            if not found:
                raise ValueError
            pairs.append((first(left.strip()), second(right.strip())))
        except ValueError:
            raise fail(f"--{what}: {v!r} is not {shape}") from None
    return pairs


def _form(
    form: SalesForm | None,
    spot_window: int | None,
    presale_days: int | None,
    presale_ship_by: datetime | None,
) -> SalesFormSpec | None:
    if form is None:
        return None
    return SalesFormSpec(
        form,
        spot_window_hours=spot_window,
        presale_days=presale_days,
        presale_ship_by=presale_ship_by.date() if presale_ship_by else None,
    )


@app.callback()
def plan(
    shop: ShopOpt,
    sku: Annotated[int | None, typer.Option(help="SKU whose form, price and stock to use")] = None,
    form: Annotated[
        SalesForm | None, typer.Option(help="sales form, without --sku (or to override it)")
    ] = None,
    spot_window: Annotated[int | None, typer.Option(help="spot window, hours")] = None,
    presale_days: Annotated[int | None, typer.Option(help="presale window, days")] = None,
    presale_ship_by: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="fixed-date presale: ship by this day"),
    ] = None,
    price_fen: Annotated[
        int | None, typer.Option(help="unit price in fen (default: the SKU's)")
    ] = None,
    spot: Annotated[int | None, typer.Option(help="spot units (default: the SKU's)")] = None,
    batch: Batches = None,
    buyers: Annotated[int | None, typer.Option(help="expected buyers")] = None,
    minutes: Annotated[int, typer.Option(help="session length, minutes")] = 120,
    curve: Annotated[str | None, typer.Option(help="flat, spike or ramp")] = None,
    point: Points = None,
    quantity: Quantities = None,
    order_log: Annotated[
        Path | None, typer.Option(help="CSV of a past session: time, quantity", exists=True)
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="draws each buyer's quantity")] = 0,
    starts_at: Annotated[
        datetime | None, typer.Option(help="session start (default: now); local time if no offset")
    ] = None,
    slip_days: Annotated[
        int, typer.Option(min=0, max=365, help="days a capacity batch slips, for the risk")
    ] = 0,
    spot_lines: Annotated[int | None, typer.Option(help="spot lines in the window")] = None,
    paid_lines: Annotated[int | None, typer.Option(help="paid lines in the window")] = None,
    rows: Annotated[int, typer.Option(min=1, max=1_440, help="burn-down rows shown")] = 12,
) -> None:
    """Simulate the session as the live order path would serve it. With --sku the
    presale is the SKU's own (unbatched units, then confirmed supplier batches by ready
    day); repeat --batch QTY@YYYY-MM-DD to try other confirmed capacity instead,
    --point MINUTE:WEIGHT for a curve, --quantity Q:WEIGHT for the quantity mix."""
    from tierstock.services import planner

    if sku is None and form is None:
        raise fail("give --sku (the SKU's own form) or --form")
    if sku is None and price_fen is None:
        raise fail("give --sku (the SKU's own price) or --price-fen")
    batches = _pairs(batch, "batch", BATCH, int, date.fromisoformat)
    points = _pairs(point, "point", POINT, int, float)
    sizes = _pairs(quantity, "quantity", QUANTITY, int, int)
    log = planner.parse_order_log(order_log.read_text(encoding="utf-8-sig")) if order_log else None
    cmd = planner.PlanLive(
        shop_id=shop,
        sku_id=sku,
        sales_form=_form(form, spot_window, presale_days, presale_ship_by),
        price_fen=price_fen,
        spot_quantity=spot,
        batches=tuple(planner.BatchIn(q, d) for q, d in batches) if batch else None,
        buyers=buyers,
        duration_minutes=minutes,
        curve_shape=curve,
        curve_points=tuple(points),
        quantities=tuple(sizes) or ((1, 1),),
        order_log=log,
        seed=seed,
        starts_at=starts_at,
        slip_days=slip_days,
        spot_lines=spot_lines,
        paid_lines=paid_lines,
    )
    result = planner.plan_live(cmd, open_runtime().uow(readonly=True))
    _print(result, rows)


def _t(r: planner.LivePlan, minute: int | None) -> str:
    if minute is None:
        return "never"
    return f"minute {minute} ({r.input.starts_at.astimezone(r.zone) + minute * MINUTE:%H:%M})"


def _share(x: ShareCount) -> str:
    return f"{percent(x.share_bp)} ({x.spot_lines}/{x.paid_lines})"


def _print(r: planner.LivePlan, rows: int) -> None:
    p = r.plan
    summary = new_table(
        title=f"Live plan, shop {r.shop_id}, seed {r.seed}, from "
        f"{r.input.starts_at.astimezone(r.zone):%Y-%m-%d %H:%M} "
        f"({r.zone.key})",
        show_header=False,
    )
    summary.add_row("buyers", f"{p.buyers:,}")
    summary.add_row(
        "spot",
        f"{p.spot_lines:,} lines, {p.spot_units:,} units; sold out {_t(r, p.spot_sold_out_minute)}",
    )
    summary.add_row(
        "presale",
        f"{p.presale_lines:,} lines, {p.presale_units:,} units; "
        f"capacity gone {_t(r, p.capacity_sold_out_minute)}",
    )
    why = ", ".join(f"{reason.value} {n:,}" for reason, n in p.refusals)
    summary.add_row(
        "refused",
        f"{p.refused_buyers:,} buyers, {p.refused_units:,} units" + (f" ({why})" if why else ""),
    )
    verdict = "[green]eligible[/]" if p.eligible_after else "[bold red]not eligible[/]"
    summary.add_row(
        "spot share",
        f"{_share(p.share_before)} → {_share(p.share_after)}, "
        f"minimum {percent(r.rules.min_spot_share_bp)}: {verdict}",
    )
    needed = "no spot quantity is enough" if p.spot_needed is None else f"{p.spot_needed:,}"
    summary.add_row("spot needed", needed)
    summary.add_row(f"slip {p.slip_days} d", f"{yuan(p.compensation_at_risk_fen)} at risk")
    out.print(summary)
    promises = new_table("tier", "ship by", "lines", "units", title="Promises")
    for x in p.promises:
        promises.add_row(x.tier.value, x.ship_by_date.isoformat(), f"{x.lines:,}", f"{x.units:,}")
    out.print(promises)
    risks = new_table(
        *("batch", "ready", "promised before", "session units"),
        *("late", "unshipped", "compensation"),
        title=f"If a batch slips {p.slip_days} days",
    )
    for b in p.risks:
        name = str(b.index) if b.batch_id is None else f"#{b.batch_id}"
        risks.add_row(
            name,
            b.ready_on.isoformat(),
            f"{b.promised_before:,}",
            f"{b.units:,}/{b.quantity:,}",
            f"{b.late_lines:,}",
            f"{b.unshipped_lines:,}",
            yuan(b.compensation_fen),
        )
    out.print(risks)
    _burn_down(p.series, rows)


def _burn_down(series: tuple[MinutePoint, ...], rows: int) -> None:
    columns = ("minute", "buyers", "orders", "refused", "spot left", "presale left")
    table = new_table(*columns, right=columns, title="Burn-down")
    step = max(1, -(-len(series) // rows))
    for x in series[::step]:
        table.add_row(
            str(x.minute),
            f"{x.buyers:,}",
            f"{x.lines:,}",
            f"{x.refused:,}",
            f"{x.spot_left:,}",
            f"{x.presale_left:,}",
        )
    out.print(table)
