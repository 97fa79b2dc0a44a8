"""`tierstock orders …`: an order is what a buyer paid for, line by line, each with its tier."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from tierstock.cli.support import ACTOR, NounApp, ShopOpt, local_time, new_table, open_shop, out
from tierstock.domain.compensation import yuan
from tierstock.domain.orders import Order

app = NounApp(help="Orders: show one, cancel it or one of its lines.", no_args_is_help=True)

OrderArg = Annotated[int, typer.Argument(help="order id", min=1)]


def _print_order(o: Order, zone: ZoneInfo) -> None:
    buyer = f" by {escape(o.buyer)}" if o.buyer else ""
    out.print(
        f"order {o.id}{buyer}, paid {local_time(o.paid_at, zone)} ({zone.key}): {yuan(o.total_fen)}"
    )
    table = new_table(
        *("line", "SKU", "qty", "tier", "unit price", "paid", "ship by", "status"),
        right=("qty", "unit price", "paid"),
    )
    for ln in o.lines:
        table.add_row(
            str(ln.line_no),
            str(ln.sku_id),
            str(ln.quantity),
            ln.tier.value,
            yuan(ln.unit_price_fen),
            yuan(ln.paid_fen),
            local_time(ln.ship_by, zone),
            ln.status.value,
        )
    out.print(table)


@app.command("show")
def show(order_id: OrderArg, shop: ShopOpt) -> None:
    """An order's lines: tier, price, ship-by deadline, paid or cancelled."""
    from tierstock.services import placing

    runtime, zone = open_shop(shop)
    _print_order(placing.get_order(shop, order_id, runtime.uow(readonly=True)), zone)


@app.command("cancel")
def cancel(
    order_id: OrderArg,
    shop: ShopOpt,
    line: Annotated[int | None, typer.Option(help="only this line", min=1)] = None,
    reason: Annotated[str | None, typer.Option(help="why (kept in the ledger)")] = None,
) -> None:
    """Cancel every paid line of the order, or only --line.

    Units go back to the tier each came from (docs/rules.md §2), so a cancelled spot
    unit is sold as spot again, never as presale."""
    from tierstock.services import placing

    runtime, zone = open_shop(shop)
    why = reason or ("order cancelled" if line is None else "line cancelled")
    cmd = placing.CancelOrder(shop, order_id, line, ACTOR, why)
    after = placing.cancel_order(cmd, runtime.uow())
    out.print(f"order {order_id}" + ("" if line is None else f" line {line}") + " cancelled")
    _print_order(after, zone)
