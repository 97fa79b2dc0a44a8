"""The audit trail: one entry per change, who made it and why."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tierstock.api.schemas.base import Public


class AuditEntryPublic(Public):
    created_at: datetime = Field(description="when, in the shop's time zone")
    actor: str
    action: str
    object_type: str = Field(description="product, sku, order_line, api_key, channel …")
    object_id: int | None = Field(
        description="the object's id; none for an order line (see order_id and line_no)"
    )
    order_id: int | None = Field(
        description="the order concerned: of an order line, or of the sale a stock entry is"
    )
    line_no: int | None = Field(description="the order line concerned, numbered in its order")
    detail: dict[str, object] = Field(description="what changed; times in the shop's zone")
    reason: str
