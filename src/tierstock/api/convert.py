"""Domain values → public models, with times in the shop's display zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tierstock.api.schemas.orders import OrderLinePublic, OrderPublic
from tierstock.api.schemas.products import (
    NextUnitPromisePublic,
    ProductCardPublic,
    ProductPublic,
    SkuCardPublic,
)
from tierstock.api.schemas.shops import ShopPublic
from tierstock.api.schemas.skus import (
    LedgerEntryPublic,
    SalesFormPublic,
    SkuPublic,
    TierStockPublic,
)
from tierstock.domain.allocation import TierStock
from tierstock.domain.catalogue import Product, Shop, Sku
from tierstock.domain.ledger import LedgerEntry
from tierstock.domain.orders import Order
from tierstock.domain.sales_forms import SalesFormSpec
from tierstock.services.card import ProductCard


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def local(dt: datetime, zone: ZoneInfo) -> datetime:
    return dt.astimezone(zone)


def shop(x: Shop, zone: ZoneInfo) -> ShopPublic:
    return ShopPublic(id=x.id, name=x.name, policy=x.policy, created_at=local(x.created_at, zone))


def product(x: Product, zone: ZoneInfo) -> ProductPublic:
    return ProductPublic(
        id=x.id,
        name=x.name,
        listed=x.listed,
        service_promises=list(x.service_promises),
        created_at=local(x.created_at, zone),
    )


def sales_form(f: SalesFormSpec) -> SalesFormPublic:
    return SalesFormPublic(
        form=f.form,
        spot_window_hours=f.spot_window_hours,
        presale_days=f.presale_days,
        presale_ship_by=f.presale_ship_by,
    )


def sku_fields(x: Sku) -> dict[str, object]:
    return {
        "id": x.id,
        "product_id": x.product_id,
        "code": x.code,
        "specs": x.specs,
        "price_fen": x.price_fen,
        "price_yuan": yuan(x.price_fen),
        "sales_form": sales_form(x.sales_form),
    }


def sku(x: Sku) -> SkuPublic:
    return SkuPublic.model_validate(sku_fields(x))


def tier(t: TierStock) -> TierStockPublic:
    return TierStockPublic(tier=t.tier, quantity=t.quantity, sold=t.sold, available=t.available)


def ledger_entry(e: LedgerEntry, zone: ZoneInfo) -> LedgerEntryPublic:
    return LedgerEntryPublic(
        tier=e.tier,
        kind=e.kind.value,
        quantity_delta=e.quantity_delta,
        sold_delta=e.sold_delta,
        order_id=e.order_id,
        line_no=e.line_no,
        actor=e.actor,
        reason=e.reason,
        created_at=local(e.created_at, zone),
    )


def order(x: Order, zone: ZoneInfo) -> OrderPublic:
    return OrderPublic(
        id=x.id,
        buyer=x.buyer,
        paid_at=local(x.paid_at, zone),
        total_fen=x.total_fen,
        lines=[
            OrderLinePublic(
                line_no=ln.line_no,
                sku_id=ln.sku_id,
                quantity=ln.quantity,
                tier=ln.tier,
                unit_price_fen=ln.unit_price_fen,
                paid_fen=ln.paid_fen,
                ship_by=local(ln.ship_by, zone),
                status=ln.status.value,
            )
            for ln in x.lines
        ],
    )


def card(c: ProductCard, zone: ZoneInfo) -> ProductCardPublic:
    skus = []
    for sc in c.skus:
        p = sc.next_unit
        skus.append(
            SkuCardPublic.model_validate(
                {
                    **sku_fields(sc.sku),
                    "tiers": [tier(t) for t in sc.tiers],
                    "available": sc.available,
                    "next_unit_promise": NextUnitPromisePublic(
                        tier=p.tier,
                        ship_by=local(p.ship_by, zone) if p.ship_by else None,
                        text_en=p.text_en,
                        text_zh=p.text_zh,
                    ),
                }
            )
        )
    return ProductCardPublic(
        product=product(c.product, zone), skus=skus, as_of=local(c.as_of, zone)
    )
