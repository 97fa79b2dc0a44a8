"""`tierstock front …`: operate the optional Redis reservation front (services/front.py).

Every command needs ``TIERSTOCK_REDIS_URL`` (and PostgreSQL); without it they say so in
one line and exit 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import typer

from tierstock.cli_support import fail, guard, open_runtime, out
from tierstock.services import front_admin
from tierstock.services.front import ReservationFront
from tierstock.services.front_fold import Folder
from tierstock.services.runtime import Runtime

front_app = typer.Typer(
    help="The optional Redis reservation front for live bursts.", no_args_is_help=True
)

#: How commands get a runtime; tests replace it with one on their own database.
runtime_factory: Callable[[], Runtime] = open_runtime


def _front() -> ReservationFront:
    front = runtime_factory().front
    if front is None:
        raise fail("the Redis front is off: set TIERSTOCK_REDIS_URL (PostgreSQL only)")
    return front


@front_app.command("status")
def status() -> None:
    """On or off, open leases, leased units not yet sold, reservations not yet folded."""

    def run() -> None:
        s = front_admin.status(_front())
        out.print(
            f"front {'on' if s.on else 'off'}: {s.open_leases} open lease(s), "
            f"{s.leased_units} leased unit(s) unsold or unfolded, "
            f"{s.unfolded} reservation(s) waiting to be folded"
        )

    guard(run)


@front_app.command("drain")
def drain(
    wait: Annotated[
        float, typer.Option(min=0, help="seconds to wait for other folders' entries")
    ] = 30.0,
) -> None:
    """Switch the front off, fold every reservation, give unsold units back (end of a
    live session, or before turning TIERSTOCK_REDIS_URL off)."""

    def run() -> None:
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

    guard(run)


@front_app.command("on")
def switch_on() -> None:
    """Let the front take orders again after a drain."""

    def run() -> None:
        _front().switch_on()
        out.print("front on")

    guard(run)


@front_app.command("fold")
def fold(
    follow: Annotated[
        bool,
        typer.Option("--follow", help="keep folding until interrupted (a folder worker process)"),
    ] = False,
) -> None:
    """Write the reservations waiting on the stream to the database."""

    def run() -> None:
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

    guard(run)
