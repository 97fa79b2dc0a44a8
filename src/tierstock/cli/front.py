"""`tierstock front …`: the front is the optional Redis reservation layer for live bursts.

Every command needs ``TIERSTOCK_REDIS_URL`` (and PostgreSQL); without it they say so in
one line and exit 1.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from tierstock.cli.support import NounApp, fail, open_runtime, out

if TYPE_CHECKING:
    from tierstock.services.placing.redis_front.front import ReservationFront

app = NounApp(help="The optional Redis reservation front for live bursts.", no_args_is_help=True)


def _front() -> ReservationFront:
    front = open_runtime().front
    if front is None:
        raise fail("the Redis front is off: set TIERSTOCK_REDIS_URL (PostgreSQL only)")
    return front


@app.command("status")
def status() -> None:
    """On or off, open leases, leased units not yet sold, reservations not yet folded."""
    from tierstock.services.placing.redis_front import admin as front_admin

    s = front_admin.status(_front())
    out.print(
        f"front {'on' if s.on else 'off'}: {s.open_leases} open lease(s), "
        f"{s.leased_units} leased unit(s) unsold or unfolded, "
        f"{s.unfolded} reservation(s) waiting to be folded"
    )


@app.command("drain")
def drain(
    wait: Annotated[
        float, typer.Option(min=0, help="seconds to wait for other folders' entries")
    ] = 30.0,
) -> None:
    """Switch the front off, fold every reservation, give unsold units back (end of a
    live session, or before turning TIERSTOCK_REDIS_URL off)."""
    from tierstock.services.placing.redis_front import admin as front_admin

    d = front_admin.drain(_front(), wait)
    out.print(
        f"front off: {d.folded} order(s) folded, {d.released + d.recovered} "
        f"leased unit(s) given back"
    )
    if d.void:
        raise fail(
            f"{len(d.void)} answered order(s) were voided (their key had an "
            f"order already): {', '.join(map(str, d.void[:20]))}"
        )
    left = front_admin.status(_front())
    if left.unfolded or left.leased_units:
        raise fail(
            f"{left.unfolded} reservation(s) still unfolded: another folder holds "
            "them; run the drain again"
        )


@app.command("on")
def switch_on() -> None:
    """Let the front take orders again after a drain."""
    _front().switch_on()
    out.print("front on")


@app.command("fold")
def fold(
    follow: Annotated[
        bool,
        typer.Option("--follow", help="keep folding until interrupted (a folder worker process)"),
    ] = False,
) -> None:
    """Write the reservations waiting on the stream to the database."""
    from tierstock.services.placing.redis_front.fold import Folder

    folder = Folder(_front())
    if not follow:
        done = folder.fold_all()
        out.print(f"{done.sales} order(s) folded, {done.released} unit(s) given back")
        return
    out.print("folding the front's stream; Ctrl-C to stop")
    folder.start()
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        folder.stop()
