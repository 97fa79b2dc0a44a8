"""Orders and their lines as values, and the order-level rules checked before any I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tierstock.domain.errors import InvalidValueError
from tierstock.domain.policy import OrderLimits
from tierstock.domain.sales_forms import Tier


class LineStatus(StrEnum):
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class LineRequest:
    """A buyer's wish: ``quantity`` units of SKU ``sku_id``."""

    sku_id: int
    quantity: int


@dataclass(frozen=True)
class OrderLine:
    line_no: int
    sku_id: int
    quantity: int
    tier: Tier
    unit_price_fen: int
    ship_by: datetime
    status: LineStatus

    @property
    def paid_fen(self) -> int:
        return self.quantity * self.unit_price_fen


@dataclass(frozen=True)
class Order:
    id: int
    shop_id: int
    buyer: str | None
    paid_at: datetime
    lines: tuple[OrderLine, ...]

    @property
    def total_fen(self) -> int:
        return sum(line.paid_fen for line in self.lines)


def check_lines(lines: list[LineRequest], limits: OrderLimits) -> None:
    """Refuse empty, oversized or non-positive orders before touching stock."""
    if not lines:
        raise InvalidValueError("an order needs at least one line", field="lines")
    if len(lines) > limits.max_lines_per_order:
        raise InvalidValueError(
            f"an order may have at most {limits.max_lines_per_order} lines",
            field="lines",
        )
    for i, line in enumerate(lines):
        if not 1 <= line.quantity <= limits.max_line_quantity:
            raise InvalidValueError(
                f"quantity must be between 1 and {limits.max_line_quantity}",
                field=f"lines[{i}].quantity",
            )


@dataclass(frozen=True)
class NewLine:
    """A line about to be written: the allocation result of the hot path."""

    line_no: int
    sku_id: int
    quantity: int
    tier: Tier
    unit_price_fen: int
    ship_by: datetime
    tier_sold_after: int
