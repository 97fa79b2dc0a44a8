"""`tierstock ship …`: a shipment is an order line handed to a carrier, or why it cannot be.

Services are imported inside the commands (see ``cli/support.py``): ``--help`` stays light.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from tierstock.cli.support import ACTOR, NounApp, ShopOpt, local_time, open_runtime, open_shop, out
from tierstock.domain.compensation import yuan
from tierstock.domain.errors import InvalidValueError

app = NounApp(
    help="Ship, record the carrier's pickup, cancel as unshippable, delay a line.",
    no_args_is_help=True,
)

WHEN_HELP = "ISO time, e.g. 2026-12-01T20:00+08:00; without an offset the shop's local time"


def _maybe_when(text: str | None, zone: ZoneInfo, field: str) -> datetime | None:
    return None if text is None else _when(text, zone, field)


def _when(text: str, zone: ZoneInfo, field: str) -> datetime:
    """A time typed by a person: with its offset, or the shop's local time."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValueError(f"{field} must be an ISO time: {WHEN_HELP}", field=field) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


@app.command("line")
def ship(
    order: int,
    line: int,
    carrier: str,
    tracking_no: str,
    shop: ShopOpt,
    shipped_at: Annotated[
        str | None, typer.Option(help=f"when it left (default: now); {WHEN_HELP}")
    ] = None,
    picked_up_at: Annotated[
        str | None, typer.Option(help=f"the carrier's pickup (揽收), judges the line; {WHEN_HELP}")
    ] = None,
) -> None:
    """Record the shipment of one order line."""
    from tierstock.services import shipping

    runtime, zone = open_shop(shop)
    x = shipping.ship_line(
        shipping.ShipLine(
            shop,
            order,
            line,
            carrier,
            tracking_no,
            _maybe_when(shipped_at, zone, "shipped_at"),
            ACTOR,
            _maybe_when(picked_up_at, zone, "picked_up_at"),
        ),
        runtime.uow(),
    )
    out.print(f"order {order} line {line} shipped: {x.outcome}")


@app.command("pickup")
def pickup(
    order: int,
    line: int,
    picked_up_at: Annotated[str, typer.Argument(help=f"the carrier's pickup time; {WHEN_HELP}")],
    shop: ShopOpt,
) -> None:
    """Record the carrier's pickup (揽收) of a shipped line; it judges the line from now on."""
    from tierstock.services import shipping

    runtime, zone = open_shop(shop)
    at = _when(picked_up_at, zone, "picked_up_at")
    x = shipping.record_pickup(shipping.RecordPickup(shop, order, line, at, ACTOR), runtime.uow())
    out.print(f"order {order} line {line} picked up {local_time(at, zone)}: {x.outcome}")


@app.command("unshippable")
def unshippable(order: int, line: int, reason: str, shop: ShopOpt) -> None:
    """Cancel a line that cannot ship; records the unshipped compensation."""
    from tierstock.services import shipping

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
    from tierstock.services import delays

    d = delays.request_delay(
        delays.RequestDelay(shop, order, line, kind, reason, new_ship_by, consent, ACTOR),
        open_runtime().uow(),
    )
    out.print(f"order {order} line {line} now due {d.new_ship_by.isoformat()}")
