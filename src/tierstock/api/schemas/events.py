"""Published changes (the outbox) as the events endpoint lists them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tierstock.api.schemas.base import Public


class EventPublic(Public):
    id: int
    topic: str
    payload: dict[str, Any]
    created_at: datetime
    published_at: datetime | None
