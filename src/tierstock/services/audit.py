"""The audit trail: every change's who, when, what and why, readable and exportable.

Stock movements already carry who/when/why in the ledger, and so do deadline moves,
shipments and compensation in their own tables; other changes (catalogue, sales forms,
listing, keys) write an audit row in the same transaction as the change. The trail
merges them all, newest first; an order line is named by its order id and line number.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tierstock.domain.audit import AuditEntry
from tierstock.store.uow import UnitOfWork


def record(
    uow: UnitOfWork,
    shop_id: int,
    actor: str,
    action: str,
    object_type: str,
    object_id: int,
    detail: dict[str, Any],
    reason: str = "",
) -> None:
    """Write one audit row inside the caller's transaction."""
    uow.audit.record(
        AuditEntry(shop_id, actor, action, object_type, object_id, detail, reason, uow.now())
    )


def audit_trail(
    shop_id: int,
    uow: UnitOfWork,
    *,
    since: datetime | None = None,
    limit: int = 1000,
    include_stock: bool = True,
    zone: ZoneInfo | None = None,
) -> list[AuditEntry]:
    """The shop's newest ``limit`` entries from ``since`` on, newest first. With a
    ``zone``, every time in them — when, and the times in the detail — is in that zone."""
    with uow:
        entries = uow.audit.changes(shop_id, since, limit)
        entries += uow.audit.promise_changes(shop_id, since, limit)
        if include_stock:
            entries += uow.audit.stock_movements(shop_id, since, limit)
    # each source comes newest first; a stable sort keeps that order among equal times
    entries.sort(key=lambda e: e.created_at, reverse=True)
    trail = entries[:limit]
    if zone is None:
        return trail
    return [
        replace(e, created_at=e.created_at.astimezone(zone), detail=_in_zone(e.detail, zone))
        for e in trail
    ]


# A time with its offset as the trail's details spell them (datetime.isoformat()).
_STAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:[0-9]{2})")


def _in_zone(value: Any, zone: ZoneInfo) -> Any:
    """Times with an offset (the details store them in UTC), moved to ``zone``."""
    if isinstance(value, dict):
        return {k: _in_zone(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [_in_zone(v, zone) for v in value]
    if isinstance(value, str) and _STAMP.fullmatch(value):
        try:
            return datetime.fromisoformat(value).astimezone(zone).isoformat()
        except ValueError:
            return value
    return value
