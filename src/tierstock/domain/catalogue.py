"""Shop → product → SKU, service promises and the listing lifecycle — docs/rules.md §1–2."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tierstock.domain.errors import InvalidValueError, ListedProductFormChangeError
from tierstock.domain.sales_forms import SalesFormSpec


class ServicePromise(StrEnum):
    """Service promises a SKU may carry (服务承诺)."""

    SEVEN_DAY_RETURN = "seven_day_return"  # 7天无理由退货
    FREIGHT_INSURANCE = "freight_insurance"  # 运费险
    FAKE_ONE_PAY_TEN = "fake_one_pay_ten"  # 假一赔十
    FAST_REFUND = "fast_refund"  # 极速退款


@dataclass(frozen=True)
class Shop:
    id: int
    name: str
    policy: str
    created_at: datetime


@dataclass(frozen=True)
class Product:
    id: int
    shop_id: int
    name: str
    listed: bool
    service_promises: tuple[ServicePromise, ...]
    created_at: datetime


@dataclass(frozen=True)
class Sku:
    id: int
    shop_id: int
    product_id: int
    code: str
    specs: dict[str, str] = field(hash=False)
    price_fen: int
    sales_form: SalesFormSpec


def check_price(price_fen: int) -> None:
    """Money is integer fen; a SKU cannot be sold for nothing or less."""
    if price_fen <= 0:
        raise InvalidValueError(
            "price_fen must be a positive whole number of fen", field="price_fen"
        )


def ensure_form_change_allowed(product: Product) -> None:
    """docs/rules.md §2: delist → edit → relist; a listed product's forms are frozen."""
    if product.listed:
        raise ListedProductFormChangeError(
            f"product {product.id} is listed; delist it first, change the sales form, "
            "then list it again",
            field="sales_form",
        )
