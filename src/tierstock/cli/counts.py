"""`tierstock count …`: a stock count (库存盘点) is a warehouse's counted figures (§4).

Import policy: every row of a file is checked first and a row-by-row report printed.
With any bad row nothing is saved (exit 1) unless ``--accept-good-rows``, which saves
the good rows in one transaction and still reports the bad ones. Re-importing a
corrected file is safe: a (SKU, location) counted again replaces its earlier figure.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

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
    print_items,
)
from tierstock.domain.counts import DEFAULT_WAREHOUSE, CountEntry, CountStatus, RowError

if TYPE_CHECKING:
    from tierstock.services import counts
    from tierstock.services.runtime import Runtime

app = NounApp(
    help="Stock counts 库存盘点: open, enter, import, variance, approve.", no_args_is_help=True
)

ROLE = "owner"  # whoever runs the CLI holds the database: the shop's owner
CountArg = Annotated[int, typer.Argument(help="count id", min=1)]


@app.command("open")
def open_(
    shop: ShopOpt,
    sku: Annotated[
        list[str] | None, typer.Option(help="SKU code to count (repeat); default: every SKU")
    ] = None,
    warehouse: Annotated[str, typer.Option()] = DEFAULT_WAREHOUSE,
    note: Annotated[str, typer.Option()] = "",
) -> None:
    """Open a count of the warehouse (one open count per warehouse)."""
    from tierstock.services import counts

    cmd = counts.OpenCount(shop, warehouse, None, note, ACTOR, tuple(sku or ()))
    c = counts.open_count(cmd, open_runtime().uow())
    scope = "every SKU" if c.sku_ids is None else f"{len(c.sku_ids)} SKU(s)"
    out.print(f"count {c.id} open for warehouse {c.warehouse} ({scope})")


@app.command("list")
def list_(shop: ShopOpt) -> None:
    """The shop's counts, newest first."""
    from tierstock.services import counts

    runtime, zone = open_shop(shop)
    table = new_table(
        *("id", "warehouse", "status", "scope", "opened", "approved"),
        title=f"Stock counts of shop {shop}",
    )
    for c in counts.list_counts(shop, runtime.uow(readonly=True)):
        table.add_row(
            str(c.id),
            c.warehouse,
            c.status.value,
            "all" if c.sku_ids is None else f"{len(c.sku_ids)} SKUs",
            local_time(c.opened_at, zone),
            "—" if c.approved_at is None else local_time(c.approved_at, zone),
        )
    out.print(table)


@app.command("enter")
def enter(
    count_id: CountArg,
    sku_code: str,
    counted: int,
    shop: ShopOpt,
    location: Annotated[str, typer.Option()] = "",
    counter: Annotated[str, typer.Option()] = "",
    cost_fen: Annotated[int | None, typer.Option(help="unit cost in fen")] = None,
) -> None:
    """Enter one counted figure by hand (counted now)."""
    from tierstock.services import counts

    entry = CountEntry(sku_code, counted, location, counter, cost_fen)
    counts.record_counts(counts.RecordCounts(shop, count_id, (entry,), ACTOR), open_runtime().uow())
    out.print(f"count {count_id}: {sku_code} counted {counted}")


def _open_count(runtime: Runtime, shop: int) -> int:
    from tierstock.services import counts

    for c in counts.list_counts(shop, runtime.uow(readonly=True)):
        if c.status is CountStatus.OPEN and c.warehouse == DEFAULT_WAREHOUSE:
            return c.id
    raise fail("no open count: open one with `tierstock count open --shop ID`")


def _report(refused: tuple[RowError, ...], path: Path | None) -> None:
    table = new_table(
        "row", "field", "reason", title=f"{len(refused)} row(s) refused", title_style="bold red"
    )
    for e in refused[:200]:
        table.add_row(str(e.row), e.field, escape(e.message))
    err.print(table)
    if len(refused) > 200:
        err.print(f"… and {len(refused) - 200} more")
    if path is not None:
        with path.open("w", newline="", encoding="utf-8-sig") as f:
            writer = csv.writer(f)
            writer.writerow(["row", "field", "reason"])
            writer.writerows([e.row, e.field, e.message] for e in refused)
        err.print(f"row report written to {path}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    shop: ShopOpt,
    count: Annotated[int | None, typer.Option(help="count id; default: the open one")] = None,
    accept_good_rows: Annotated[
        bool, typer.Option(help="save the good rows even if some rows are refused")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="also write the refused rows to this CSV")
    ] = None,
) -> None:
    """Import counted figures from a CSV or XLSX sheet (Chinese or English headers)."""
    runtime, zone = open_shop(shop)  # an unknown shop is refused before any count
    count_id = count or _open_count(runtime, shop)
    done = _read_check_save(runtime, shop, count_id, zone, file, accept_good_rows)
    if done.refused:
        _report(done.refused, report)
    if not done.committed:
        raise fail(
            f"nothing saved: {len(done.refused)} row(s) refused; fix them and "
            "import again, or pass --accept-good-rows to save the good rows"
        )
    out.print(
        f"count {count_id}: saved {done.saved} line(s) from {file.name}"
        + (f", refused {len(done.refused)}" if done.refused else "")
    )


def _read_check_save(
    runtime: Runtime, shop: int, count_id: int, zone: ZoneInfo, file: Path, accept_good_rows: bool
) -> counts.RecordedCounts:
    """Read, check and save the sheet, one progress bar per step on stderr: a sheet of
    tens of thousands of rows takes long enough that a silent terminal looks hung."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tierstock.services import count_import, counts

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=False,
    ) as bar:
        reading = bar.add_task("reading", total=count_import.sheet_rows(file) or None)
        sheet = count_import.read_sheet(file, lambda n: bar.advance(reading, n))
        bar.update(reading, total=bar.tasks[reading].completed)
        checking = bar.add_task("checking", total=len(sheet.rows))
        parsed = count_import.parse_sheet(sheet, zone, lambda n: bar.advance(checking, n))
        saving = bar.add_task("saving", total=1)
        done = counts.import_counts(
            counts.RecordCounts(
                shop,
                count_id,
                tuple(e for _, e in parsed.entries),
                ACTOR,
                accept_good_rows,
                tuple(r for r, _ in parsed.entries),
                parsed.errors,
            ),
            runtime.uow(),
        )
        bar.advance(saving)
    return done


def _money(fen: int | None) -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100}.{abs(fen) % 100:02d}"


@app.command("variance")
def variance(
    count_id: CountArg,
    shop: ShopOpt,
    xlsx: Annotated[Path | None, typer.Option(help="also write an XLSX here")] = None,
) -> None:
    """The variance report: counted against system stock when counted, and its value."""
    from tierstock.services import count_import, counts

    runtime, zone = open_shop(shop)
    r = counts.variance_report(shop, count_id, runtime.uow(readonly=True))
    table = new_table(
        *("SKU", "counted", "system", "when", "variance", "value"),
        right=("counted", "system", "variance", "value"),
        title=f"Count {count_id} ({r.count.status.value}) variance",
    )
    for v in r.skus:
        style = "green" if not v.variance else ("red" if v.variance < 0 else "yellow")
        table.add_row(
            v.sku_code,
            str(v.counted),
            str(v.system_on_hand),
            local_time(v.counted_at, zone),
            f"[{style}]{v.variance:+d}[/]",
            _money(v.value_fen),
        )
    out.print(table)
    out.print(
        f"{r.skus_off} of {len(r.skus)} SKU(s) off ({r.share_off:.1%}); net "
        f"{r.net_quantity:+d} units, {_money(r.net_value_fen)}; gross "
        f"{r.gross_quantity} units, {_money(r.gross_value_fen)}"
    )
    print_items("not counted", r.not_counted)
    print_items("no cost given (value left out)", r.without_cost)
    if xlsx is not None:
        xlsx.write_bytes(count_import.variance_xlsx(r, zone))
        out.print(f"written {xlsx}")


@app.command("approve")
def approve(count_id: CountArg, shop: ShopOpt, reason: Annotated[str, typer.Option()] = "") -> None:
    """Approve: adjust stock to the count, publish the changes, flag short SKUs."""
    from tierstock.services import count_approval

    cmd = count_approval.ApproveCount(shop, count_id, ROLE, ACTOR, reason)
    done = count_approval.approve_count(cmd, open_runtime().uow())
    table = new_table(
        *("SKU", "variance", "Δ quantity", "available", "short", "orders at risk"),
        right=("variance", "Δ quantity", "available", "short"),
        title=f"Count {count_id} approved: {len(done.adjustments)} SKU(s) adjusted",
    )
    for a in done.adjustments:
        orders = ", ".join(str(p.order_id) for p in a.affected)
        table.add_row(
            a.sku_code,
            f"{a.variance:+d}",
            f"{a.spot.delta:+d}",
            str(a.spot.quantity_after - a.spot.sold),
            f"[bold red]{a.spot.shortfall}[/]" if a.spot.shortfall else "0",
            orders or "—",
        )
    out.print(table)
    for a in done.flagged:
        orders = ", ".join(str(p.order_id) for p in a.affected)
        err.print(
            f"[bold red]short:[/] {a.sku_code} holds {a.spot.shortfall} unit(s) "
            f"fewer than promised; orders {orders}",
            highlight=False,
        )
    out.print(f"{done.events} event(s) published")
