"""`tierstock products …`: a product is what a shop lists for sale; its SKUs hold the stock."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from tierstock.cli.support import NounApp, ShopOpt, local_time, new_table, open_shop, out
from tierstock.domain.catalogue import Product
from tierstock.domain.compensation import yuan

app = NounApp(help="Products and their product card (商品卡).", no_args_is_help=True)

ProductArg = Annotated[int, typer.Argument(help="product id from `products list`", min=1)]


def _listed(p: Product) -> str:
    return "[green]listed[/]" if p.listed else "delisted"


def _promises(p: Product) -> str:
    return ", ".join(s.value for s in p.service_promises) or "—"


@app.command("list")
def list_(
    shop: ShopOpt,
    offset: Annotated[int, typer.Option(min=0, help="skip this many products")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """The shop's products: listed (上架) or not, service promises, when created."""
    from tierstock.services import catalogue

    runtime, zone = open_shop(shop)  # an unknown shop is refused here, naming --shop
    found = catalogue.list_products(shop, runtime.uow(readonly=True), offset=offset, limit=limit)
    table = new_table(
        "id", "name", "status", "service promises", "created", title=f"Products of shop {shop}"
    )
    for p in found:
        table.add_row(
            str(p.id), escape(p.name), _listed(p), _promises(p), local_time(p.created_at, zone)
        )
    out.print(table)
    if not found:
        out.print("no products")


@app.command("show")
def show(product_id: ProductArg, shop: ShopOpt) -> None:
    """The product card (商品卡): each SKU's price, stock per tier and next promise.

    The same card the host, the product page and customer service read, taken straight
    from the database (the API serves it from a short-lived cache)."""
    from tierstock.services import card

    runtime, zone = open_shop(shop)
    c = card.product_card(shop, product_id, runtime.uow(readonly=True))
    p = c.product
    out.print(
        f"product {p.id}: {escape(p.name)} ({_listed(p)}); service promises: {_promises(p)}; "
        f"as of {local_time(c.as_of, zone)} ({zone.key})"
    )
    table = new_table(
        *("SKU", "code", "price", "form", "stock left/total", "next unit"),
        right=("price",),
        title=f"SKUs of product {p.id}",
    )
    for s in c.skus:
        tiers = ", ".join(f"{t.tier.value} {t.available}/{t.quantity}" for t in s.tiers)
        table.add_row(
            str(s.sku.id),
            escape(s.sku.code),
            yuan(s.sku.price_fen),
            s.sku.sales_form.form.value,
            tiers or "—",
            f"{s.next_unit.text_en} ({s.next_unit.text_zh})",
        )
    out.print(table)
    if not c.skus:
        out.print("no SKUs yet: add them through the API or the workbench")
