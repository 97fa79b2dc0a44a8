"""`tierstock stock …`: stock is a SKU's units per tier (spot, presale): made sellable, sold."""

from __future__ import annotations

from typing import Annotated

import typer

from tierstock.cli.support import ACTOR, NounApp, ShopOpt, new_table, open_runtime, out
from tierstock.domain.allocation import TierStock
from tierstock.domain.sales_forms import Tier
from tierstock.services import stock

app = NounApp(help="Stock per SKU and tier: show, receive, set.", no_args_is_help=True)

SkuOpt = Annotated[int, typer.Option("--sku", help="SKU id", min=1)]
TierOpt = Annotated[Tier, typer.Option(help="the tier to change")]
ReasonOpt = Annotated[str | None, typer.Option(help="why (kept in the ledger)")]


def _figures(sku: int, t: TierStock) -> str:
    return f"SKU {sku} {t.tier.value}: {t.quantity} units, {t.sold} sold, {t.available} available"


@app.command("show")
def show(shop: ShopOpt, sku: SkuOpt) -> None:
    """The SKU's figures per tier: units made sellable, units sold, units available."""
    tiers = stock.read_stock(shop, sku, open_runtime().uow(readonly=True))
    figures = ("quantity", "sold", "available")
    table = new_table("tier", *figures, right=figures, title=f"Stock of SKU {sku} (shop {shop})")
    for tier in Tier:
        if tier in tiers:
            t = tiers[tier]
            table.add_row(tier.value, str(t.quantity), str(t.sold), str(t.available))
    out.print(table)
    if not tiers:
        out.print(f"SKU {sku} holds no stock yet")


@app.command("receive")
def receive(
    shop: ShopOpt,
    sku: SkuOpt,
    tier: TierOpt,
    quantity: Annotated[int, typer.Option(help="units received", min=1)],
    reason: ReasonOpt = None,
) -> None:
    """Goods arrived: add sellable units to a tier (a ledger receipt)."""
    cmd = stock.ReceiveStock(shop, sku, tier, quantity, ACTOR, reason or "goods received")
    out.print(_figures(sku, stock.receive_stock(cmd, open_runtime().uow())))


@app.command("set")
def set_(
    shop: ShopOpt,
    sku: SkuOpt,
    tier: TierOpt,
    available: Annotated[int, typer.Option(help="units sellable from now on", min=0)],
    reason: ReasonOpt = None,
) -> None:
    """Set how many units of the tier are available from now on.

    Units already sold stay promised to their buyers: the figure set is what is left to
    sell, so a merchant recounting the shelf never takes stock back from a paid order."""
    cmd = stock.SetStock(shop, sku, tier, available, ACTOR, reason or "stock set by merchant")
    out.print(_figures(sku, stock.set_stock(cmd, open_runtime().uow())))
