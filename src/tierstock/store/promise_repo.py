"""Delays, compensation and the set-based promise scan (docs/rules.md §7).

The scan never loops over lines in Python: each step is one ``INSERT … SELECT … ON
CONFLICT DO NOTHING`` over a range of line ids, so a line's compensation (under
``compensation.base = "order"``: an order's, by its ``order_key``) is recorded exactly
once however often (or concurrently) the scan runs. The amount is computed in SQL with
the rounding rule of ``domain/compensation.py``. A record then lives on as a claim
(``state``), changed only by a compare-and-set on its current state.
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
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    update,
)

from tierstock.domain.compensation import (
    BASIS_POINTS,
    CompensationBase,
    CompensationKind,
    CompensationRecord,
    CompensationState,
)
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
    "base",
    "order_key",
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


def _order_compensated(order_id: ColumnElement[Any], kind: CompensationKind) -> Any:
    return exists().where(compensations.c.order_key == order_id, compensations.c.kind == kind.value)


def _already(kind: CompensationKind, base: CompensationBase) -> Any:
    """The line (or, under the order base, its order) already owes ``kind``."""
    if base is CompensationBase.ORDER:
        return _order_compensated(order_lines.c.order_id, kind)
    return _compensated(order_lines.c.id, kind)


def _base_paid(base: CompensationBase) -> ColumnElement[Any]:
    """The value the rate is taken of: the line's, or its whole order's as paid."""
    line_paid = order_lines.c.quantity * order_lines.c.unit_price_fen
    if base is CompensationBase.LINE:
        return line_paid
    whole = order_lines.alias("whole")
    total = (
        select(func.sum(whole.c.quantity * whole.c.unit_price_fen))
        .where(whole.c.order_id == order_lines.c.order_id)
        .scalar_subquery()
    )
    return cast(total, BigInteger)  # PostgreSQL's SUM is NUMERIC: divide as integers


def _base_columns(base: CompensationBase) -> tuple[Any, Any]:
    key = order_lines.c.order_id if base is CompensationBase.ORDER else null()
    return literal(base.value), key


def latest_delays() -> Any:
    """Per line, the deadline set by its latest accepted delay (each is later)."""
    return (
        select(ship_delays.c.line_id, func.max(ship_delays.c.new_ship_by).label("ship_by"))
        .group_by(ship_delays.c.line_id)
        .subquery("d")
    )


def _record(r: Any) -> CompensationRecord:
    return CompensationRecord(
        r.id,
        r.line_id,
        r.order_id,
        r.line_no,
        CompensationKind(r.kind),
        r.paid_fen,
        r.amount_fen,
        r.deadline,
        r.created_at,
        CompensationBase(r.base),
        r.policy,
        CompensationState(r.state),
        r.agreed_fen,
        r.agreed_by,
        r.settled_fen,
        r.state_by,
        r.state_note,
        r.state_at,
    )


RECORD_QUERY = select(compensations, order_lines.c.order_id, order_lines.c.line_no).join(
    order_lines, order_lines.c.id == compensations.c.line_id
)


@dataclass(frozen=True)
class StateTotal:
    """Records in one state: how many, the rule's amounts, and what is still to pay."""

    records: int
    amount_fen: int
    outstanding_fen: int


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
        *,
        order_key: int | None = None,
    ) -> bool:
        """Record once; ``order_key`` (the order's id) under the order base."""
        stmt = (
            upsert_insert(self.conn)(compensations)
            .on_conflict_do_nothing()
            .returning(compensations.c.id)
        )
        base = CompensationBase.LINE if order_key is None else CompensationBase.ORDER
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
                "base": base.value,
                "order_key": order_key,
            },
        )
        return result.first() is not None

    def orders_paid_fen(self, order_ids: list[int]) -> dict[int, int]:
        """Each order's paid value (every line as paid): the order base's amount base."""
        if not order_ids:
            return {}
        rows = self.conn.execute(
            select(
                order_lines.c.order_id,
                func.sum(order_lines.c.quantity * order_lines.c.unit_price_fen),
            )
            .where(order_lines.c.order_id.in_(sorted(set(order_ids))))
            .group_by(order_lines.c.order_id)
        )
        return {int(o): int(total or 0) for o, total in rows}

    def _insert_from(self, query: Select[Any]) -> int:
        """Without a conflict target: the line's unique key and the order's both hold."""
        stmt = (
            upsert_insert(self.conn)(compensations)
            .from_select(COMP_COLUMNS, query)
            .on_conflict_do_nothing()
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
        base: CompensationBase = CompensationBase.LINE,
    ) -> int:
        """Compensation for lines whose shipment came late (or after the grace period).
        A line (under the order base: an order) that already owes *unshipped* is not
        also charged *late*."""
        paid = _base_paid(base)
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
                *_base_columns(base),
            )
            .join(order_lines, order_lines.c.id == shipments.c.line_id)
            .where(
                shipments.c.shop_id == shop_id,
                shipments.c.outcome == kind.value,
                shipments.c.line_id.between(lo, hi),
                order_lines.c.id.between(lo, hi),
                ~_compensated(order_lines.c.id, kind),
                ~_already(kind, base),
            )
            .order_by(order_lines.c.id)
        )
        if kind is CompensationKind.LATE:
            query = query.where(
                ~_compensated(order_lines.c.id, CompensationKind.UNSHIPPED),
                ~_already(CompensationKind.UNSHIPPED, base),
            )
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
        base: CompensationBase = CompensationBase.LINE,
    ) -> int:
        """*Unshipped* for paid lines with no shipment whose effective deadline is before
        ``cutoff`` (= now − grace). A delay only moves a deadline later, so
        ``ship_by < cutoff`` is a necessary condition that prunes most rows first."""
        d = latest_delays()
        deadline = func.coalesce(d.c.ship_by, order_lines.c.ship_by)
        paid = _base_paid(base)
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
                *_base_columns(base),
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
                ~_already(CompensationKind.UNSHIPPED, base),
            )
            .order_by(order_lines.c.id)
        )
        return self._insert_from(query)

    def line_id_range(self, shop_id: int) -> tuple[int, int] | None:
        lo, hi = self.conn.execute(
            select(func.min(order_lines.c.id), func.max(order_lines.c.id)).where(
                order_lines.c.shop_id == shop_id
            )
        ).one()
        return None if lo is None else (int(lo), int(hi))

    def compensations_of(
        self,
        shop_id: int,
        limit: int = 1000,
        states: tuple[CompensationState, ...] | None = None,
    ) -> list[CompensationRecord]:
        query = RECORD_QUERY.where(compensations.c.shop_id == shop_id)
        if states is not None:
            query = query.where(compensations.c.state.in_([s.value for s in states]))
        rows = self.conn.execute(query.order_by(compensations.c.id).limit(limit))
        return [_record(r) for r in rows]

    def records_of_orders(self, shop_id: int, order_ids: list[int]) -> list[CompensationRecord]:
        """Every record of these orders (on any of their lines), oldest first."""
        if not order_ids:
            return []
        rows = self.conn.execute(
            RECORD_QUERY.where(
                compensations.c.shop_id == shop_id,
                order_lines.c.order_id.in_(sorted(set(order_ids))),
            ).order_by(compensations.c.id)
        )
        return [_record(r) for r in rows]

    def records_of_line(
        self, shop_id: int, line_id: int, *, lock: bool = False
    ) -> list[CompensationRecord]:
        query = RECORD_QUERY.where(
            compensations.c.shop_id == shop_id, compensations.c.line_id == line_id
        ).order_by(compensations.c.id)
        if lock:
            query = query.with_for_update(of=compensations)
        return [_record(r) for r in self.conn.execute(query)]

    def judged_at(self, line_id: int) -> datetime | None:
        """When a scan (or a cancel) first recorded this line as broken, if ever."""
        first: datetime | None = self.conn.execute(
            select(func.min(compensations.c.created_at)).where(compensations.c.line_id == line_id)
        ).scalar_one_or_none()
        return None if first is None else _aware(first)

    def change_state(self, before: CompensationRecord, after: CompensationRecord) -> bool:
        """Write ``after`` if the record is still in ``before``'s state (compare-and-set:
        of two racing changes, one wins and the other is told)."""
        result = self.conn.execute(
            update(compensations)
            .where(
                compensations.c.id == before.id,
                compensations.c.state == before.state.value,
            )
            .values(
                state=after.state.value,
                agreed_fen=after.agreed_fen,
                agreed_by=after.agreed_by,
                settled_fen=after.settled_fen,
                state_by=after.state_by,
                state_note=after.state_note,
                state_at=after.state_at,
            )
        )
        return result.rowcount == 1

    def rejudge(
        self, record: CompensationRecord, kind: CompensationKind, paid_fen: int, amount_fen: int
    ) -> bool:
        """Turn an unsettled record into ``kind`` (a corrected shipment made it worse)."""
        result = self.conn.execute(
            update(compensations)
            .where(
                compensations.c.id == record.id,
                compensations.c.state == record.state.value,
                compensations.c.kind == record.kind.value,
            )
            .values(kind=kind.value, paid_fen=paid_fen, amount_fen=amount_fen)
        )
        return result.rowcount == 1

    def by_state(self, shop_id: int) -> dict[CompensationState, StateTotal]:
        """Per state: records, the rule's amounts, and what is still to pay (the agreed
        amount once agreed; nothing once paid or waived)."""
        c = compensations.c
        still = case(
            (c.state == CompensationState.AGREED.value, func.coalesce(c.agreed_fen, 0)),
            (
                c.state.in_([CompensationState.OWED.value, CompensationState.CLAIMED.value]),
                c.amount_fen,
            ),
            else_=0,
        )
        rows = self.conn.execute(
            select(c.state, func.count(), func.sum(c.amount_fen), func.sum(still))
            .where(c.shop_id == shop_id)
            .group_by(c.state)
        )
        return {
            CompensationState(st): StateTotal(int(n), int(a or 0), int(o or 0))
            for st, n, a, o in rows
        }

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
