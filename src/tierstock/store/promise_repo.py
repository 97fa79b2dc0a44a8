"""Delays, compensation and the set-based promise scan (docs/rules.md §7).

The scan never loops over lines in Python: each step is one ``INSERT … SELECT … ON
CONFLICT (line_id, kind) DO NOTHING`` over a range of line ids, so a line's
compensation is recorded exactly once however often (or concurrently) the scan runs.
The amount is computed in SQL with the rounding rule of ``domain/compensation.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)

from tierstock.domain.compensation import BASIS_POINTS, CompensationKind
from tierstock.domain.delays import Delay, DelayKind
from tierstock.domain.fulfilment import ExposureSums, OpenLine
from tierstock.domain.orders import LineStatus
from tierstock.domain.policy import CompensationRule
from tierstock.store.sql import upsert_insert
from tierstock.store.tables import (
    compensations,
    order_lines,
    ship_delays,
    shipments,
    shops,
)

PAID = LineStatus.PAID.value
COMP_COLUMNS = [
    "shop_id",
    "line_id",
    "kind",
    "paid_fen",
    "amount_fen",
    "deadline",
    "policy",
    "created_at",
]


def amount_sql(paid: ColumnElement[Any], rule: CompensationRule) -> ColumnElement[Any]:
    """SQL twin of ``domain.compensation.compensation_fen`` (integer division, then clamp)."""
    rate = literal(rule.rate_bp, BigInteger)
    raw = (paid * rate + literal(BASIS_POINTS // 2, BigInteger)) // literal(
        BASIS_POINTS, BigInteger
    )
    floor_ = literal(rule.min_fen, BigInteger)
    if rule.max_fen is None:
        return case((raw < floor_, floor_), else_=raw)
    cap = literal(rule.max_fen, BigInteger)
    return case((raw < floor_, floor_), (raw > cap, cap), else_=raw)


def _compensated(line_id: ColumnElement[Any], kind: CompensationKind) -> Any:
    """Already recorded: skipping it up front spares the conflict on every re-scan."""
    return exists().where(compensations.c.line_id == line_id, compensations.c.kind == kind.value)


def latest_delays() -> Any:
    """Per line, the deadline set by its latest accepted delay (each is later)."""
    return (
        select(ship_delays.c.line_id, func.max(ship_delays.c.new_ship_by).label("ship_by"))
        .group_by(ship_delays.c.line_id)
        .subquery("d")
    )


@dataclass(frozen=True)
class CompensationRecord:
    line_id: int
    order_id: int
    line_no: int
    kind: CompensationKind
    paid_fen: int
    amount_fen: int
    deadline: datetime
    created_at: datetime


class PromiseRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- delays -----------------------------------------------------------------------
    def add_delay(self, shop_id: int, line_id: int, d: Delay) -> None:
        self.conn.execute(
            ship_delays.insert(),
            {
                "shop_id": shop_id,
                "line_id": line_id,
                "kind": d.kind.value,
                "reason": d.reason,
                "buyer_consent": d.buyer_consent,
                "previous_ship_by": d.previous_ship_by,
                "new_ship_by": d.new_ship_by,
                "actor": d.actor,
                "created_at": d.created_at,
            },
        )

    def delays_of(self, line_id: int) -> list[Delay]:
        rows = self.conn.execute(
            select(ship_delays).where(ship_delays.c.line_id == line_id).order_by(ship_delays.c.id)
        )
        return [
            Delay(
                DelayKind(r.kind),
                r.reason,
                r.actor,
                r.buyer_consent,
                r.previous_ship_by,
                r.new_ship_by,
                r.created_at,
            )
            for r in rows
        ]

    def effective_deadline(self, line_id: int, original: datetime) -> datetime:
        latest: datetime | None = self.conn.execute(
            select(func.max(ship_delays.c.new_ship_by)).where(ship_delays.c.line_id == line_id)
        ).scalar_one_or_none()
        return original if latest is None else latest

    # --- compensation -----------------------------------------------------------------
    def record(
        self,
        shop_id: int,
        line_id: int,
        kind: CompensationKind,
        paid_fen: int,
        amount_fen: int,
        deadline: datetime,
        policy: str,
        at: datetime,
    ) -> bool:
        stmt = (
            upsert_insert(self.conn)(compensations)
            .on_conflict_do_nothing(index_elements=["line_id", "kind"])
            .returning(compensations.c.id)
        )
        result = self.conn.execute(
            stmt,
            {
                "shop_id": shop_id,
                "line_id": line_id,
                "kind": kind.value,
                "paid_fen": paid_fen,
                "amount_fen": amount_fen,
                "deadline": deadline,
                "policy": policy,
                "created_at": at,
            },
        )
        return result.first() is not None

    def _insert_from(self, query: Select[Any]) -> int:
        stmt = (
            upsert_insert(self.conn)(compensations)
            .from_select(COMP_COLUMNS, query)
            .on_conflict_do_nothing(index_elements=["line_id", "kind"])
        )
        result = self.conn.execution_options(preserve_rowcount=True).execute(stmt)
        return int(result.rowcount)

    def scan_shipped(
        self,
        shop_id: int,
        kind: CompensationKind,
        rule: CompensationRule,
        policy: str,
        now: datetime,
        lo: int,
        hi: int,
    ) -> int:
        """Compensation for lines whose shipment came late (or after the grace period).
        A line that already owes *unshipped* is not also charged *late*."""
        paid = order_lines.c.quantity * order_lines.c.unit_price_fen
        query = (
            select(
                order_lines.c.shop_id,
                order_lines.c.id,
                literal(kind.value),
                paid,
                amount_sql(paid, rule),
                shipments.c.deadline,
                literal(policy),
                literal(now, shipments.c.recorded_at.type),
            )
            .join(order_lines, order_lines.c.id == shipments.c.line_id)
            .where(
                shipments.c.shop_id == shop_id,
                shipments.c.outcome == kind.value,
                shipments.c.line_id.between(lo, hi),
                order_lines.c.id.between(lo, hi),
                ~_compensated(order_lines.c.id, kind),
            )
        )
        if kind is CompensationKind.LATE:
            query = query.where(~_compensated(order_lines.c.id, CompensationKind.UNSHIPPED))
        return self._insert_from(query)

    def scan_lapsed(
        self,
        shop_id: int,
        rule: CompensationRule,
        policy: str,
        now: datetime,
        cutoff: datetime,
        lo: int,
        hi: int,
    ) -> int:
        """*Unshipped* for paid lines with no shipment whose effective deadline is before
        ``cutoff`` (= now − grace). A delay only moves a deadline later, so
        ``ship_by < cutoff`` is a necessary condition that prunes most rows first."""
        d = latest_delays()
        deadline = func.coalesce(d.c.ship_by, order_lines.c.ship_by)
        paid = order_lines.c.quantity * order_lines.c.unit_price_fen
        query = (
            select(
                order_lines.c.shop_id,
                order_lines.c.id,
                literal(CompensationKind.UNSHIPPED.value),
                paid,
                amount_sql(paid, rule),
                deadline,
                literal(policy),
                literal(now, order_lines.c.ship_by.type),
            )
            .select_from(order_lines.outerjoin(d, d.c.line_id == order_lines.c.id))
            .where(
                order_lines.c.shop_id == shop_id,
                order_lines.c.status == PAID,
                order_lines.c.id.between(lo, hi),
                order_lines.c.ship_by < cutoff,
                or_(d.c.ship_by.is_(None), d.c.ship_by < cutoff),
                ~exists().where(shipments.c.line_id == order_lines.c.id),
                ~_compensated(order_lines.c.id, CompensationKind.UNSHIPPED),
            )
        )
        return self._insert_from(query)

    def line_id_range(self, shop_id: int) -> tuple[int, int] | None:
        lo, hi = self.conn.execute(
            select(func.min(order_lines.c.id), func.max(order_lines.c.id)).where(
                order_lines.c.shop_id == shop_id
            )
        ).one()
        return None if lo is None else (int(lo), int(hi))

    def compensations_of(self, shop_id: int, limit: int = 1000) -> list[CompensationRecord]:
        rows = self.conn.execute(
            select(compensations, order_lines.c.order_id, order_lines.c.line_no)
            .join(order_lines, order_lines.c.id == compensations.c.line_id)
            .where(compensations.c.shop_id == shop_id)
            .order_by(compensations.c.id)
            .limit(limit)
        )
        return [
            CompensationRecord(
                r.line_id,
                r.order_id,
                r.line_no,
                CompensationKind(r.kind),
                r.paid_fen,
                r.amount_fen,
                r.deadline,
                r.created_at,
            )
            for r in rows
        ]

    def totals(self, shop_id: int) -> dict[CompensationKind, tuple[int, int]]:
        """Per kind: (lines, fen) recorded so far."""
        rows = self.conn.execute(
            select(compensations.c.kind, func.count(), func.sum(compensations.c.amount_fen))
            .where(compensations.c.shop_id == shop_id)
            .group_by(compensations.c.kind)
        )
        return {CompensationKind(k): (int(n), int(s or 0)) for k, n, s in rows}

    # --- open lines and risk ----------------------------------------------------------
    def open_lines(self, shop_id: int, due_before: datetime | None, limit: int) -> list[OpenLine]:
        """Paid, unshipped lines by effective deadline, earliest first."""
        d = latest_delays()
        deadline = func.coalesce(d.c.ship_by, order_lines.c.ship_by).label("deadline")
        query = (
            select(
                order_lines.c.id,
                order_lines.c.order_id,
                order_lines.c.line_no,
                order_lines.c.sku_id,
                order_lines.c.tier,
                order_lines.c.quantity,
                order_lines.c.unit_price_fen,
                deadline,
            )
            .select_from(order_lines.outerjoin(d, d.c.line_id == order_lines.c.id))
            .where(
                order_lines.c.shop_id == shop_id,
                order_lines.c.status == PAID,
                ~exists().where(shipments.c.line_id == order_lines.c.id),
            )
            .order_by(deadline, order_lines.c.id)
            .limit(limit)
        )
        if due_before is not None:
            query = query.where(func.coalesce(d.c.ship_by, order_lines.c.ship_by) <= due_before)
        return [
            OpenLine(
                r.id,
                r.order_id,
                r.line_no,
                r.sku_id,
                r.tier,
                r.quantity * r.unit_price_fen,
                _aware(r.deadline),
            )
            for r in self.conn.execute(query)
        ]

    def due_counts(
        self, shop_id: int, since: datetime, now: datetime, at_risk_cutoff: datetime
    ) -> tuple[int, int, int]:
        """Over lines due in ``[since, now]`` (effective deadline): how many were due,
        how many owe compensation, how many are open and past their deadline."""
        d = latest_delays()
        deadline = func.coalesce(d.c.ship_by, order_lines.c.ship_by)
        failed = exists().where(compensations.c.line_id == order_lines.c.id)
        unshipped = ~exists().where(shipments.c.line_id == order_lines.c.id)
        cancelled_fail = and_(order_lines.c.status != PAID, failed)
        query = (
            select(
                func.count(),
                func.sum(case((failed, 1), else_=0)),
                func.sum(
                    case(
                        (
                            and_(
                                order_lines.c.status == PAID,
                                unshipped,
                                ~failed,
                                deadline < at_risk_cutoff,
                            ),
                            1,
                        ),
                        else_=0,
                    )
                ),
            )
            .select_from(order_lines.outerjoin(d, d.c.line_id == order_lines.c.id))
            .where(
                order_lines.c.shop_id == shop_id,
                deadline >= since,
                deadline <= now,
                or_(order_lines.c.status == PAID, cancelled_fail),
            )
        )
        total, bad, risky = self.conn.execute(query).one()
        return int(total or 0), int(bad or 0), int(risky or 0)

    def shops(self, only: int | None = None) -> list[tuple[int, str]]:
        """(id, policy pack) of every shop, or of ``only``."""
        query = select(shops.c.id, shops.c.policy).order_by(shops.c.id)
        if only is not None:
            query = query.where(shops.c.id == only)
        return [(int(r.id), str(r.policy)) for r in self.conn.execute(query)]

    def exposure(
        self,
        shop_id: int,
        now: datetime,
        lapse_cutoff: datetime,
        soon: datetime,
        late: CompensationRule,
    ) -> ExposureSums:
        """Late compensation that open lines cost if shipped now (overdue, not lapsed) and
        would cost if those due soon miss their deadline — one aggregate query."""
        d = latest_delays()
        deadline = func.coalesce(d.c.ship_by, order_lines.c.ship_by)
        amount = amount_sql(order_lines.c.quantity * order_lines.c.unit_price_fen, late)
        overdue = and_(deadline < now, deadline >= lapse_cutoff)
        due_soon = and_(deadline >= now, deadline <= soon)
        row = self.conn.execute(
            select(
                func.sum(case((overdue, 1), else_=0)),
                func.sum(case((overdue, amount), else_=0)),
                func.sum(case((due_soon, 1), else_=0)),
                func.sum(case((due_soon, amount), else_=0)),
            )
            .select_from(order_lines.outerjoin(d, d.c.line_id == order_lines.c.id))
            .where(
                order_lines.c.shop_id == shop_id,
                order_lines.c.status == PAID,
                order_lines.c.ship_by <= soon,
                ~exists().where(shipments.c.line_id == order_lines.c.id),
            )
        ).one()
        return ExposureSums(*(int(v or 0) for v in row))


def _aware(value: datetime) -> datetime:
    """A computed deadline, as an aware UTC datetime whatever the driver returned."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
