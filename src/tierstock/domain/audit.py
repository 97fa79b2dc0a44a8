"""Audit entries: who changed what, when and why (issue: trust; docs/rules.md §3, §7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    shop_id: int
    actor: str  # "shop<id>:<role>#<key id>" for API keys, "cli", "system", …
    action: str  # e.g. "product.listed", "sku.sales_form_changed", "stock.receipt"
    object_type: str
    object_id: int
    detail: dict[str, Any] = field(hash=False)
    reason: str
    created_at: datetime
    # the order line concerned, by its public names (order id, line number): set when the
    # trail is read, for entries about a line and for stock movements of a sale
    order_id: int | None = None
    line_no: int | None = None
