"""`tierstock` command line (Typer + Rich): one module per noun, assembled here.

Every refusal prints one readable line on stderr naming the option to correct and exits
1 (usage errors: Typer's own message, exit 2); no traceback reaches the user.
"""

from __future__ import annotations

from tierstock.cli import (
    capacity,
    channels,
    counts,
    db,
    demo,
    eligibility,
    events,
    front,
    keys,
    orders,
    plan,
    policy,
    products,
    promises,
    serve,
    shipments,
    shops,
    stock,
    verify,
)
from tierstock.cli.support import NounApp, run_app

app = NounApp(
    help="tierstock: stock and shipping promises that never oversell.", no_args_is_help=True
)
app.add_typer(serve.app)
app.add_typer(demo.app)
app.add_typer(verify.app)
app.add_typer(db.app, name="db")
app.add_typer(policy.app, name="policy")
app.add_typer(keys.app, name="keys")
app.add_typer(shops.app, name="shops")
app.add_typer(products.app, name="products")
app.add_typer(stock.app, name="stock")
app.add_typer(orders.app, name="orders")
app.add_typer(promises.app, name="promises")
app.add_typer(eligibility.app, name="eligibility")
app.add_typer(shipments.app, name="ship")
app.add_typer(counts.app, name="count")
app.add_typer(events.app, name="events")
app.add_typer(capacity.app, name="capacity")
app.add_typer(plan.app, name="plan")
app.add_typer(front.app, name="front")
app.add_typer(channels.app, name="channels")


def main() -> None:
    """The console script `tierstock`."""
    run_app(app)


__all__ = ["app", "main"]
