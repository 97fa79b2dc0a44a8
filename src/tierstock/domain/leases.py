"""What the Redis reservation front records of the units it sells: leases and
the sales folded from its stream (services/placing/redis_front/)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tierstock.domain.sales_forms import Tier


@dataclass(frozen=True)
class Lease:
    id: int
    shop_id: int
    sku_id: int
    tier: Tier
    first_unit: int
    units: int
    sold: int
    returned: int

    @property
    def outstanding(self) -> int:
        """Leased units neither folded into lines nor given back yet."""
        return self.units - self.sold - self.returned


@dataclass(frozen=True)
class FoldedSale:
    """One reservation from the front's stream, as the row it becomes."""

    order_id: int
    shop_id: int
    idempotency_key: str
    request_hash: str
    buyer: str | None
    paid_at: datetime
    sku_id: int
    tier: Tier
    quantity: int
    unit_price_fen: int
    ship_by: datetime
    tier_sold_after: int
