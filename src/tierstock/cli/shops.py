"""`tierstock shops …`: a shop is the merchant's store, the owner of every other noun."""

from __future__ import annotations

from typing import Annotated

import typer

from tierstock.cli.support import NounApp, open_runtime, out

app = NounApp(help="Shops.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="shop name")],
    policy: Annotated[str, typer.Option(help="policy pack")] = "kuaishou",
) -> None:
    """Create a shop and print its owner key (shown once)."""
    from tierstock.services import shops

    created = shops.create_shop(shops.CreateShop(name, policy), open_runtime().uow())
    out.print(
        f"shop {created.shop.id} created; owner key (shown once): {created.api_key}",
        highlight=False,
        soft_wrap=True,
    )
