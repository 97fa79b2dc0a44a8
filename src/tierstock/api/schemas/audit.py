"""The audit trail: one entry per change, who made it and why."""

from __future__ import annotations

from datetime import datetime

from tierstock.api.schemas.base import Public


class AuditEntryPublic(Public):
    actor: str
    action: str
    object_type: str
    object_id: int
    detail: dict[str, object]
    reason: str
    created_at: datetime
