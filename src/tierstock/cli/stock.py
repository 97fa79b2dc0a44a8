"""`tierstock stock …`: stock is a SKU's units per tier (spot, presale): made sellable, sold.

Raising spot stock rests on evidence (docs/rules.md §3.5): a receipt names its
``--supplier`` and ``--delivery-note``. Whoever runs the CLI holds the database, so it
acts as the shop's owner: it alone may raise stock without evidence, with ``--override``
and a ``--reason``, and that raise is flagged (库存无依据上调).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tierstock.cli.support import (
    ACTOR,
    NounApp,
    ShopOpt,
    local_time,
    new_table,
    open_runtime,
    open_shop,
    out,
)
from tierstock.domain.access import Role
from tierstock.domain.sales_forms import Tier

if TYPE_CHECKING:
    from tierstock.domain.allocation import TierStock

app = NounApp(
    help="Stock per SKU and tier: show, receive, set; units made sellable without evidence.",
    no_args_is_help=True,
)

SkuOpt = Annotated[int, typer.Option("--sku", help="SKU id", min=1)]
TierOpt = Annotated[Tier, typer.Option(help="the tier to change")]
ReasonOpt = Annotated[str | None, typer.Option(help="why (kept in the ledger)")]
OverrideOpt = Annotated[
    bool,
    typer.Option(
        "--override",
        help="raise spot stock without evidence, as the owner; needs --reason; flagged "
        "as stock raised without evidence (库存无依据上调)",
    ),
]
CLI_ROLE = Role.OWNER.value  # whoever holds the database holds the shop


def _figures(sku: int, t: TierStock) -> str:
    return f"SKU {sku} {t.tier.value}: {t.quantity} units, {t.sold} sold, {t.available} available"


@app.command("show")
def show(shop: ShopOpt, sku: SkuOpt) -> None:
    """The SKU's figures per tier: units made sellable, units sold, units available."""
    from tierstock.services import stock

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
    supplier: Annotated[str, typer.Option(help="who delivered the goods (evidence)")] = "",
    delivery_note: Annotated[
        str, typer.Option(help="the delivery note (送货单) or batch number (evidence)")
    ] = "",
    reason: ReasonOpt = None,
    override: OverrideOpt = False,
) -> None:
    """Goods arrived: add sellable units to a tier (a ledger receipt).

    A spot receipt is evidence when it names its supplier and delivery note; without
    them it is refused unless --override is given with a --reason (flagged)."""
    from tierstock.services import stock

    cmd = stock.ReceiveStock(
        shop,
        sku,
        tier,
        quantity,
        ACTOR,
        reason or stock.RECEIPT_REASON,
        supplier=supplier,
        delivery_note=delivery_note,
        role=CLI_ROLE,
        override=override,
    )
    out.print(_figures(sku, stock.receive_stock(cmd, open_runtime().uow())))


@app.command("set")
def set_(
    shop: ShopOpt,
    sku: SkuOpt,
    tier: TierOpt,
    available: Annotated[int, typer.Option(help="units sellable from now on", min=0)],
    reason: ReasonOpt = None,
    override: OverrideOpt = False,
) -> None:
    """Set how many units of the tier are available from now on.

    Units already sold stay promised to their buyers: the figure set is what is left to
    sell, so a merchant recounting the shelf never takes stock back from a paid order.
    Lowering needs nothing more; raising spot needs evidence (`stock receive` with the
    supplier and delivery note, or an approved count) or --override with a --reason."""
    from tierstock.services import stock

    cmd = stock.SetStock(
        shop,
        sku,
        tier,
        available,
        ACTOR,
        reason or stock.SET_STOCK_REASON,
        role=CLI_ROLE,
        override=override,
    )
    out.print(_figures(sku, stock.set_stock(cmd, open_runtime().uow())))


@app.command("unevidenced")
def unevidenced(shop: ShopOpt) -> None:
    """Every spot unit made sellable without evidence (无依据上调), per SKU, with who and
    when: the owner's overrides (flagged; "live" when a live session held the SKU),
    opening stock, and units made sellable before evidence was kept."""
    from tierstock.domain.evidence import describe_raise
    from tierstock.services import stock

    runtime, zone = open_shop(shop)
    report = stock.unevidenced(shop, runtime.uow(readonly=True))
    if not report.skus:
        out.print(f"Shop {shop}: every spot unit made sellable rests on evidence")
        return
    figures = ("units",)
    table = new_table(
        "SKU",
        "when",
        *figures,
        "what",
        "who",
        "why",
        right=figures,
        title=f"Spot units made sellable without evidence, shop {shop}",
    )
    for s in report.skus:
        for r in s.raises:
            text_en, text_zh = describe_raise(r)
            table.add_row(
                escape(f"{s.sku_code} (id {s.sku_id})"),
                local_time(r.at, zone),
                str(r.units),
                escape(f"{text_en} / {text_zh}"),
                escape(r.actor),
                escape(r.reason),
            )
    out.print(table)
    out.print(
        f"{report.units} units on {len(report.skus)} SKU(s) without evidence; "
        f"{report.flagged_units} raised by the owner's override (库存无依据上调)"
    )
