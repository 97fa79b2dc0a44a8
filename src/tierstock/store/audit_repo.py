"""The audit trail and API-key administration.

The trail's readers return each source's newest ``limit`` entries, newest first, and
name an order line by its order id and line number (``order_lines`` joined), never by
the line's internal id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, insert, select, update

from tierstock.domain.audit import AuditEntry
from tierstock.store.audit_tables import audit_log
from tierstock.store.tables import (
    api_keys,
    compensations,
    order_lines,
    ship_delays,
    shipments,
    stock_ledger,
)

# The order line an entry concerns, under names no audited table uses for itself.
_LINE_COLUMNS = (
    order_lines.c.order_id.label("line_order_id"),
    order_lines.c.line_no.label("line_line_no"),
)


class AuditRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(self, entry: AuditEntry) -> None:
        self.conn.execute(
            insert(audit_log).values(
                shop_id=entry.shop_id,
                actor=entry.actor,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                detail=entry.detail,
                reason=entry.reason,
                created_at=entry.created_at,
            )
        )

    def changes(self, shop_id: int, since: datetime | None, limit: int) -> list[AuditEntry]:
        """Rows of the audit log; one about an order line (``object_type`` "order_line",
        ``object_id`` its internal id) also names its order and line number."""
        c = audit_log.c
        joined = audit_log.outerjoin(
            order_lines, and_(c.object_type == "order_line", order_lines.c.id == c.object_id)
        )
        query = select(audit_log, *_LINE_COLUMNS).select_from(joined).where(c.shop_id == shop_id)
        if since is not None:
            query = query.where(c.created_at >= since)
        rows = self.conn.execute(query.order_by(c.id.desc()).limit(limit))
        return [
            AuditEntry(
                r.shop_id,
                r.actor,
                r.action,
                r.object_type,
                r.object_id,
                dict(r.detail),
                r.reason,
                r.created_at,
                order_id=r.object_id if r.object_type == "order" else r.line_order_id,
                line_no=r.line_line_no,
            )
            for r in rows
        ]

    def stock_movements(self, shop_id: int, since: datetime | None, limit: int) -> list[AuditEntry]:
        """Ledger rows as audit entries (who, when, what, why) for one combined trail."""
        c = stock_ledger.c
        query = select(stock_ledger).where(c.shop_id == shop_id)
        if since is not None:
            query = query.where(c.created_at >= since)
        rows = self.conn.execute(query.order_by(c.id.desc()).limit(limit))
        return [
            AuditEntry(
                r.shop_id,
                r.actor,
                f"stock.{r.kind}",
                "sku",
                r.sku_id,
                {
                    "tier": r.tier,
                    "quantity_delta": r.quantity_delta,
                    "sold_delta": r.sold_delta,
                    "order_id": r.order_id,
                    "line_no": r.line_no,
                },
                r.reason,
                r.created_at,
                order_id=r.order_id,
                line_no=r.line_no,
            )
            for r in rows
        ]

    def promise_changes(self, shop_id: int, since: datetime | None, limit: int) -> list[AuditEntry]:
        """Deadline moves (delay tools), shipments and compensation, as audit entries:
        each of those tables already records who, when and why."""
        entries: list[AuditEntry] = []
        for table, stamp in (
            (ship_delays, "created_at"),
            (shipments, "recorded_at"),
            (compensations, "created_at"),
        ):
            query = _of_lines(table, shop_id)
            if since is not None:
                query = query.where(table.c[stamp] >= since)
            for r in self.conn.execute(query.order_by(table.c.id.desc()).limit(limit)):
                entries.append(_promise_entry(table.name, r))
        return entries

    # API keys ----------------------------------------------------------------------------
    def keys(self, shop_id: int) -> list[Any]:
        return list(
            self.conn.execute(
                select(
                    api_keys.c.id,
                    api_keys.c.role,
                    api_keys.c.label,
                    api_keys.c.created_at,
                    api_keys.c.revoked_at,
                )
                .where(api_keys.c.shop_id == shop_id)
                .order_by(api_keys.c.id)
            )
        )

    def revoke_key(self, shop_id: int, key_id: int, at: datetime) -> bool:
        result = self.conn.execute(
            update(api_keys)
            .where(
                api_keys.c.id == key_id,
                api_keys.c.shop_id == shop_id,
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
        return result.rowcount == 1


def _of_lines(table: Table, shop_id: int) -> Select[Any]:
    """A promise table's rows of one shop, each with its line's order id and number."""
    joined = table.join(order_lines, order_lines.c.id == table.c.line_id)
    return select(table, *_LINE_COLUMNS).select_from(joined).where(table.c.shop_id == shop_id)


def _promise_entry(table: str, r: Any) -> AuditEntry:
    if table == "ship_delays":
        return AuditEntry(
            r.shop_id,
            r.actor,
            f"deadline.{r.kind}",
            "order_line",
            r.line_id,
            {
                "previous_ship_by": r.previous_ship_by.isoformat(),
                "new_ship_by": r.new_ship_by.isoformat(),
                "buyer_consent": r.buyer_consent,
            },
            r.reason,
            r.created_at,
            order_id=r.line_order_id,
            line_no=r.line_line_no,
        )
    if table == "shipments":
        return AuditEntry(
            r.shop_id,
            r.actor,
            f"line.shipped.{r.outcome}",
            "order_line",
            r.line_id,
            {
                "carrier": r.carrier,
                "tracking_no": r.tracking_no,
                "shipped_at": r.shipped_at.isoformat(),
                "deadline": r.deadline.isoformat(),
            },
            "shipment recorded",
            r.recorded_at,
            order_id=r.line_order_id,
            line_no=r.line_line_no,
        )
    return AuditEntry(
        r.shop_id,
        f"policy:{r.policy}",
        f"compensation.{r.kind}",
        "order_line",
        r.line_id,
        {"amount_fen": r.amount_fen, "paid_fen": r.paid_fen, "deadline": r.deadline.isoformat()},
        "promise broken",
        r.created_at,
        order_id=r.line_order_id,
        line_no=r.line_line_no,
    )
