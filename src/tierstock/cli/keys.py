"""`tierstock keys …`: an API key lets one role of one shop use the REST API."""

from __future__ import annotations

from typing import Annotated

import typer

from tierstock.cli.support import (
    ACTOR,
    NounApp,
    ShopOpt,
    display_zone,
    new_table,
    open_runtime,
    out,
)
from tierstock.domain.access import Role

app = NounApp(help="API keys per shop and role (stored hashed).", no_args_is_help=True)


@app.command("create")
def create(
    shop: ShopOpt,
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(r.value for r in Role)}")],
    label: Annotated[str, typer.Option(help="who or what the key is for")] = "",
    supplier_id: Annotated[int | None, typer.Option(help="role supplier: its supplier")] = None,
) -> None:
    """Create a key; it is printed once and only its digest is stored."""
    from tierstock.services import keys

    created = keys.create_key(
        keys.CreateKey(shop, role, label, ACTOR, supplier_id), open_runtime().uow()
    )
    out.print(
        f"key {created.info.id} ({role}) for shop {shop}: {created.api_key}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("list")
def list_(shop: ShopOpt) -> None:
    """The shop's keys (never the keys themselves)."""
    from tierstock.services import keys

    table = new_table("id", "role", "label", "created", "revoked", title=f"API keys of shop {shop}")
    zone = display_zone()
    for k in keys.list_keys(shop, open_runtime().uow(readonly=True)):
        revoked = f"{k.revoked_at.astimezone(zone):%Y-%m-%d %H:%M}" if k.revoked_at else ""
        table.add_row(
            str(k.id), k.role, k.label, f"{k.created_at.astimezone(zone):%Y-%m-%d %H:%M}", revoked
        )
    out.print(table)


@app.command("revoke")
def revoke(
    shop: ShopOpt, key_id: Annotated[int, typer.Argument(help="key id from `keys list`")]
) -> None:
    """Revoke a key: it stops working at once."""
    from tierstock.services import keys

    keys.revoke_key(keys.RevokeKey(shop, key_id, ACTOR), open_runtime().uow())
    out.print(f"key {key_id} of shop {shop} revoked")
