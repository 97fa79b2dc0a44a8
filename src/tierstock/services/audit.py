"""The audit trail: every change's who, when, what and why, readable and exportable.

Stock movements already carry who/when/why in the ledger, and so do deadline moves,
shipments and compensation in their own tables; other changes (catalogue, sales forms,
listing, keys) write an audit row in the same transaction as the change. The trail
merges them all in time order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
) -> list[AuditEntry]:
    with uow:
        entries = uow.audit.changes(shop_id, since, limit)
        entries += uow.audit.promise_changes(shop_id, since, limit)
        if include_stock:
            entries += uow.audit.stock_movements(shop_id, since, limit)
    entries.sort(key=lambda e: e.created_at)
    return entries[:limit]
