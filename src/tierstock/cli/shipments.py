"""`tierstock ship …`: a shipment is an order line handed to a carrier, or why it cannot be."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from tierstock.cli.support import ACTOR, NounApp, ShopOpt, open_runtime, out
from tierstock.domain.compensation import yuan
from tierstock.services import delays, shipping

app = NounApp(help="Ship, cancel as unshippable, delay a line.", no_args_is_help=True)


@app.command("line")
def ship(order: int, line: int, carrier: str, tracking_no: str, shop: ShopOpt) -> None:
    """Record the shipment of one order line."""
    x = shipping.ship_line(
        shipping.ShipLine(shop, order, line, carrier, tracking_no, actor=ACTOR),
        open_runtime().uow(),
    )
    out.print(f"order {order} line {line} shipped: {x.outcome}")


@app.command("unshippable")
def unshippable(order: int, line: int, reason: str, shop: ShopOpt) -> None:
    """Cancel a line that cannot ship; records the unshipped compensation."""
    done = shipping.cancel_unshippable(
        shipping.CancelUnshippable(shop, order, line, reason, ACTOR), open_runtime().uow()
    )
    out.print(f"order {order} line {line} cancelled; owes {yuan(done.compensation_fen)}")


@app.command("delay")
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
    d = delays.request_delay(
        delays.RequestDelay(shop, order, line, kind, reason, new_ship_by, consent, ACTOR),
        open_runtime().uow(),
    )
    out.print(f"order {order} line {line} now due {d.new_ship_by.isoformat()}")
