"""`tierstock verify`: the ledger check, every stock figure recomputed from its history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tierstock.cli.support import NounApp, err, fail, open_runtime, out

if TYPE_CHECKING:
    from tierstock.services.placing.redis_front.front import ReservationFront

app = NounApp()


@app.command()
def verify(
    shop: Annotated[int | None, typer.Option(help="only this shop (default: every shop)")] = None,
) -> None:
    """Recompute every stock figure from the ledger; exit 1 naming each SKU that disagrees.
    An unknown --shop is refused (exit 1), never reported as a passing check."""
    from tierstock.services.verify import verify_ledger

    runtime = open_runtime()
    checked, mismatches = verify_ledger(runtime.uow(readonly=True), shop)
    for m in mismatches:
        err.print(f"[red]mismatch:[/] {escape(m.describe())}", highlight=False)
    if mismatches:
        raise fail(f"{len(mismatches)} of {checked} stock tiers disagree with the ledger")
    out.print(f"ledger check passed: {checked} stock tiers equal their ledger")
    if runtime.front is not None:
        _verify_front(runtime.front)


def _verify_front(front: ReservationFront) -> None:
    """With the Redis front on, every open lease must equal what Redis holds."""
    from tierstock.services.placing.redis_front import admin as front_admin

    leases = front_admin.reconcile(front)
    for x in leases:
        err.print(
            f"[red]mismatch:[/] front lease {x.lease_id} (SKU id {x.sku_id} "
            f"{x.tier}): the database says {x.outstanding} unit(s) are with the "
            f"front, Redis holds {x.in_redis}",
            highlight=False,
        )
    if leases:
        raise fail(
            f"{len(leases)} front lease(s) disagree with Redis; "
            "`tierstock front drain` gives back what Redis no longer holds"
        )
    out.print("front check passed: every open lease equals what Redis holds")
