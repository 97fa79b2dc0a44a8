"""Products, SKUs, sales forms and listing (上架/下架) — docs/rules.md §1–2."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from tierstock.domain.catalogue import (
    Product,
    ServicePromise,
    Sku,
    check_price,
    ensure_form_change_allowed,
)
from tierstock.domain.errors import InvalidSalesFormError, InvalidValueError, NotFoundError
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.policy import PolicyPack
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier, validate_sales_form
from tierstock.policies import load_pack
from tierstock.services import audit
from tierstock.services.eligibility import ensure_tiered_allowed
from tierstock.store.uow import UnitOfWork


def _form_detail(spec: SalesFormSpec) -> dict[str, object]:
    return {
        "form": spec.form.value,
        "spot_window_hours": spec.spot_window_hours,
        "presale_days": spec.presale_days,
        "presale_ship_by": spec.presale_ship_by.isoformat() if spec.presale_ship_by else None,
    }


def shop_policy(uow: UnitOfWork, shop_id: int) -> PolicyPack:
    name = uow.catalogue.policy_of_shop(shop_id)
    if name is None:
        raise NotFoundError(f"no shop {shop_id}", field="shop_id")
    return load_pack(name)


def _validated(spec: SalesFormSpec, policy: PolicyPack, now: datetime) -> SalesFormSpec:
    today = now.astimezone(ZoneInfo(policy.display_timezone)).date()
    return validate_sales_form(spec, policy, today=today)


def _allowed_form(
    uow: UnitOfWork, shop_id: int, spec: SalesFormSpec, now: datetime
) -> SalesFormSpec:
    """The validated form; tiered only while the shop is eligible (docs/rules.md §6, 409)."""
    policy = shop_policy(uow, shop_id)
    checked = _validated(spec, policy, now)
    if checked.form is SalesForm.TIERED:
        ensure_tiered_allowed(uow, shop_id, policy, now)
    return checked


def require_product(
    uow: UnitOfWork, shop_id: int, product_id: int, *, lock: bool = False
) -> Product:
    product = uow.catalogue.get_product(shop_id, product_id, lock=lock)
    if product is None:
        raise NotFoundError(f"no product {product_id} in this shop", field="product_id")
    return product


def require_sku(uow: UnitOfWork, shop_id: int, sku_id: int) -> Sku:
    sku = uow.catalogue.get_sku(shop_id, sku_id)
    if sku is None:
        raise NotFoundError(f"no SKU {sku_id} in this shop", field="sku_id")
    return sku


@dataclass(frozen=True)
class CreateProduct:
    shop_id: int
    name: str
    service_promises: tuple[ServicePromise, ...] = ()
    actor: str = "system"


def create_product(cmd: CreateProduct, uow: UnitOfWork) -> Product:
    """A new product starts delisted: add its SKUs and stock, then list it."""
    if not cmd.name.strip():
        raise InvalidValueError("product name must not be empty", field="name")
    with uow:
        shop_policy(uow, cmd.shop_id)
        product = uow.catalogue.add_product(
            cmd.shop_id, cmd.name.strip(), dict.fromkeys(cmd.service_promises), uow.now()
        )
        audit.record(
            uow,
            cmd.shop_id,
            cmd.actor,
            "product.created",
            "product",
            product.id,
            {"name": product.name, "service_promises": [p.value for p in product.service_promises]},
        )
        uow.commit()
    return product


@dataclass(frozen=True)
class AddSku:
    shop_id: int
    product_id: int
    code: str
    price_fen: int
    sales_form: SalesFormSpec
    specs: dict[str, str] = field(default_factory=dict)
    spot_stock: int = 0
    presale_stock: int = 0
    actor: str = "system"


def add_sku(cmd: AddSku, uow: UnitOfWork) -> Sku:
    """Create a SKU with a validated sales form and its opening stock (as receipts)."""
    check_price(cmd.price_fen)
    if not cmd.code.strip():
        raise InvalidValueError("SKU code must not be empty", field="code")
    for name, qty in (("spot_stock", cmd.spot_stock), ("presale_stock", cmd.presale_stock)):
        if qty < 0:
            raise InvalidValueError(f"{name} must not be negative", field=name)
    with uow:
        now = uow.now()
        try:
            spec = _allowed_form(uow, cmd.shop_id, cmd.sales_form, now)
        except InvalidSalesFormError as exc:  # name the field as the request spells it
            raise InvalidSalesFormError(exc.message, field=f"sales_form.{exc.field}") from exc
        product = require_product(uow, cmd.shop_id, cmd.product_id)
        sku = uow.catalogue.add_sku(
            product, cmd.code.strip(), dict(cmd.specs), cmd.price_fen, spec, now
        )
        opening = [(Tier.SPOT, cmd.spot_stock), (Tier.PRESALE, cmd.presale_stock)]
        entries = []
        for tier, qty in opening:
            if qty:
                uow.stock.add_quantity(sku.id, tier, qty)
                entries.append(
                    LedgerEntry.change(
                        LedgerKind.RECEIPT,
                        cmd.shop_id,
                        sku.id,
                        tier,
                        qty,
                        cmd.actor,
                        "opening stock",
                        now,
                    )
                )
        uow.stock.record(entries)
        audit.record(
            uow,
            cmd.shop_id,
            cmd.actor,
            "sku.created",
            "sku",
            sku.id,
            {"code": sku.code, "price_fen": sku.price_fen, **_form_detail(spec)},
        )
        uow.commit()
    return sku


@dataclass(frozen=True)
class ChangeSalesForm:
    shop_id: int
    sku_id: int
    sales_form: SalesFormSpec
    actor: str = "system"
    reason: str = ""


def change_sales_form(cmd: ChangeSalesForm, uow: UnitOfWork) -> Sku:
    """docs/rules.md §2: only while the product is delisted. The product row is locked so a
    concurrent relist cannot slip between the check and the change."""
    with uow:
        spec = _allowed_form(uow, cmd.shop_id, cmd.sales_form, uow.now())
        sku = require_sku(uow, cmd.shop_id, cmd.sku_id)
        ensure_form_change_allowed(require_product(uow, cmd.shop_id, sku.product_id, lock=True))
        uow.catalogue.set_sales_form(sku.id, spec)
        audit.record(
            uow,
            cmd.shop_id,
            cmd.actor,
            "sku.sales_form_changed",
            "sku",
            sku.id,
            {"before": _form_detail(sku.sales_form), "after": _form_detail(spec)},
            cmd.reason,
        )
        uow.commit()
    return Sku(sku.id, sku.shop_id, sku.product_id, sku.code, sku.specs, sku.price_fen, spec)


@dataclass(frozen=True)
class SetListed:
    shop_id: int
    product_id: int
    listed: bool
    actor: str = "system"
    reason: str = ""


def set_listed(cmd: SetListed, uow: UnitOfWork) -> Product:
    """List (上架) or delist (下架). Listing needs at least one SKU; listing with 0
    stock is allowed (docs/rules.md §1: the product stays listed but cannot be bought)."""
    with uow:
        product = require_product(uow, cmd.shop_id, cmd.product_id, lock=True)
        if cmd.listed and not uow.catalogue.skus_of_product(product.id):
            raise InvalidValueError(
                "add at least one SKU before listing the product", field="listed"
            )
        uow.catalogue.set_listed(product.id, cmd.listed)
        if product.listed != cmd.listed:
            action = "product.listed" if cmd.listed else "product.delisted"
            audit.record(uow, cmd.shop_id, cmd.actor, action, "product", product.id, {}, cmd.reason)
        uow.commit()
    return Product(
        product.id,
        product.shop_id,
        product.name,
        cmd.listed,
        product.service_promises,
        product.created_at,
    )


def list_products(
    shop_id: int, uow: UnitOfWork, *, offset: int = 0, limit: int = 50
) -> list[Product]:
    with uow:
        return uow.catalogue.list_products(shop_id, offset=offset, limit=limit)
