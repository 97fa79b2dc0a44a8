"""Watch every promise to its end (docs/rules.md §7): the board of open lines by urgency, the
periodic scan that records compensation, the claims that records become (claim, pay,
waive, agree), and the mass non-fulfilment risk.

``scan_promises`` is safe to run every minute: each step is set-based SQL guarded by
the unique (line, kind) of ``compensations``, so re-running or racing records nothing
twice. It works through each shop's lines in id ranges, one short transaction per
range, so a large shop never holds SQLite's single write lock for long and a progress
bar can follow it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from tierstock.domain.compensation import (
    CompensationAction,
    CompensationBase,
    CompensationChange,
    CompensationKind,
    CompensationRecord,
    CompensationState,
    CompensationTransitionError,
    change_state,
)
from tierstock.domain.errors import InvalidValueError, NotFoundError
from tierstock.domain.fulfilment import (
    URGENCY_ORDER,
    Exposure,
    ExposureSums,
    OpenLine,
    RiskLevel,
    exposure,
    risk_level,
    share_bp,
    unrecorded,
)
from tierstock.domain.policy import PolicyPack
from tierstock.policies import load_pack
from tierstock.services import audit
from tierstock.services.catalogue import shop_policy
from tierstock.services.shipping import require_line
from tierstock.store.promise_repo import StateTotal
from tierstock.store.uow import UnitOfWork

SCAN_CHUNK_LINES = 250_000  # lines per transaction: a tuning knob, not a rule


@dataclass(frozen=True)
class PromiseView:
    """An open line: what the rule makes it cost (``exposure``), the compensation already
    recorded for it (under the order base: for its order), and what is left of the cost
    once that record is counted (``fresh``) — a recorded line is a claim to settle, not
    a new debt."""

    line: OpenLine
    exposure: Exposure
    record: CompensationRecord | None = None
    fresh: Exposure | None = None

    @property
    def new_cost(self) -> Exposure:
        return self.fresh or self.exposure


@dataclass(frozen=True)
class PromiseBoard:
    now: datetime
    lines: tuple[PromiseView, ...]


def promise_board(
    shop_id: int, uow: UnitOfWork, *, due_within_hours: int | None = None, limit: int = 100
) -> PromiseBoard:
    """Open (paid, unshipped) lines, most urgent first, each with what it costs now and
    at its next step. ``due_within_hours`` keeps lines due by then (overdue included)."""
    with uow:
        pack = shop_policy(uow, shop_id)
        now = uow.now()
        due = None if due_within_hours is None else now + timedelta(hours=due_within_hours)
        lines = uow.promises.open_lines(shop_id, due, limit)
        order_ids = [ln.order_id for ln in lines]
        records = uow.promises.records_of_orders(shop_id, order_ids)
        by_order = pack.compensation.base == CompensationBase.ORDER.value
        base = uow.promises.orders_paid_fen(order_ids) if by_order else {}
    views = []
    for ln in lines:
        mine = [
            r
            for r in records
            if r.line_id == ln.line_id or (by_order and r.order_id == ln.order_id)
        ]
        e = exposure(base.get(ln.order_id, ln.paid_fen), ln.deadline, now, pack)
        kinds = frozenset(r.kind for r in mine)
        views.append(PromiseView(ln, e, mine[-1] if mine else None, unrecorded(e, kinds)))
    views.sort(key=lambda v: (URGENCY_ORDER[v.exposure.urgency], v.line.deadline))
    return PromiseBoard(now, tuple(views))


@dataclass(frozen=True)
class ScanPromises:
    shop_id: int | None = None  # None: every shop
    chunk_lines: int = SCAN_CHUNK_LINES


@dataclass
class ScanReport:
    shops: int = 0
    line_ids: int = 0
    recorded: dict[CompensationKind, int] = field(
        default_factory=lambda: dict.fromkeys(CompensationKind, 0)
    )
    seconds: float = 0.0


Progress = Callable[[int, int], None]  # (done, total) in line ids


def scan_promises(
    cmd: ScanPromises, new_uow: Callable[[], UnitOfWork], on_progress: Progress | None = None
) -> ScanReport:
    """Record late and unshipped compensation that is due and not yet recorded."""
    started = time.perf_counter()
    report = ScanReport()
    with new_uow() as uow:
        shops = uow.promises.shops(cmd.shop_id)
        ranges = {sid: uow.promises.line_id_range(sid) for sid, _ in shops}
    total = sum(hi - lo + 1 for r in ranges.values() if r for lo, hi in [r])
    done = 0
    for sid, policy in shops:
        report.shops += 1
        span = ranges[sid]
        if span is None:
            continue
        pack = load_pack(policy)
        for lo in range(span[0], span[1] + 1, cmd.chunk_lines):
            hi = min(lo + cmd.chunk_lines - 1, span[1])
            _scan_range(new_uow(), sid, pack, lo, hi, report)
            done += hi - lo + 1
            if on_progress:
                on_progress(done, total)
    report.line_ids = total
    report.seconds = time.perf_counter() - started
    return report


def _scan_range(
    uow: UnitOfWork, shop_id: int, pack: PolicyPack, lo: int, hi: int, report: ScanReport
) -> None:
    label = f"{pack.name}@{pack.version}"
    comp = pack.compensation
    base = CompensationBase(comp.base)
    with uow:
        now = uow.now()
        cutoff = now - timedelta(hours=pack.fulfilment.grace_hours)
        repo = uow.promises
        unshipped = repo.scan_shipped(
            shop_id, CompensationKind.UNSHIPPED, comp.unshipped, label, now, lo, hi, base
        )
        unshipped += repo.scan_lapsed(shop_id, comp.unshipped, label, now, cutoff, lo, hi, base)
        late = repo.scan_shipped(
            shop_id, CompensationKind.LATE, comp.late, label, now, lo, hi, base
        )
        uow.commit()
    report.recorded[CompensationKind.UNSHIPPED] += unshipped
    report.recorded[CompensationKind.LATE] += late


@dataclass(frozen=True)
class RiskReport:
    """Mass non-fulfilment (docs/rules.md §7) over lines due in the pack's trailing window."""

    window_days: int
    due_lines: int
    failed_lines: int
    overdue_open_lines: int
    share_bp: int | None
    projected_share_bp: int | None  # if every overdue open line fails too
    warning_bp: int
    threshold_bp: int
    level: RiskLevel
    projected_level: RiskLevel
    exposure: ExposureSums
    recorded: dict[CompensationKind, tuple[int, int]]  # every record, settled or not
    by_state: dict[CompensationState, StateTotal] = field(default_factory=dict)

    @property
    def outstanding_fen(self) -> int:
        """Recorded compensation still to pay: owed, claimed, or agreed and unpaid."""
        return sum(t.outstanding_fen for t in self.by_state.values())


def risk_report(shop_id: int, uow: UnitOfWork) -> RiskReport:
    with uow:
        pack = shop_policy(uow, shop_id)
        rules = pack.fulfilment
        now = uow.now()
        since = now - timedelta(days=rules.mass_window_days)
        lapse = now - timedelta(hours=rules.grace_hours)
        due, failed, overdue = uow.promises.due_counts(shop_id, since, now, now)
        sums = uow.promises.exposure(
            shop_id, now, lapse, now + timedelta(hours=rules.due_soon_hours), pack.compensation.late
        )
        recorded = uow.promises.totals(shop_id)
        states = uow.promises.by_state(shop_id)
    share, projected = share_bp(failed, due), share_bp(failed + overdue, due)
    return RiskReport(
        rules.mass_window_days,
        due,
        failed,
        overdue,
        share,
        projected,
        rules.mass_warning_bp,
        rules.mass_threshold_bp,
        risk_level(share, rules),
        risk_level(projected, rules),
        sums,
        recorded,
        states,
    )


# --- a record's life: claim, pay, waive, agree ---------------------------------------


@dataclass(frozen=True)
class ChangeCompensation:
    """Move the compensation recorded for one line (``kind`` when it has two)."""

    shop_id: int
    order_id: int
    line_no: int
    action: str  # claim / pay / waive / agree
    actor: str = "system"
    note: str = ""
    amount_fen: int | None = None  # agree: the agreed amount
    kind: str | None = None


E = TypeVar("E", CompensationAction, CompensationKind)


def _parse(enum: type[E], value: str, name: str) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InvalidValueError(f"{name} must be one of: {allowed}", field=name) from None


def change_compensation(cmd: ChangeCompensation, uow: UnitOfWork) -> CompensationRecord:
    """One step of a record's life, checked by the domain (paid and waived are final, an
    agreement names its amount, at most the rule's), with an audit row."""
    action = _parse(CompensationAction, cmd.action, "action")
    kind = None if cmd.kind is None else _parse(CompensationKind, cmd.kind, "kind")
    change = CompensationChange(action, cmd.actor, cmd.note, cmd.amount_fen)
    with uow:
        line = require_line(uow, cmd.shop_id, cmd.order_id, cmd.line_no, lock=True)
        found = [
            r
            for r in uow.promises.records_of_line(cmd.shop_id, line.id, lock=True)
            if kind is None or r.kind is kind
        ]
        if not found:
            raise NotFoundError(
                f"line {cmd.line_no} of order {cmd.order_id} has no compensation recorded",
                field="line_no",
            )
        if len(found) > 1:
            raise InvalidValueError("the line has two records: say which kind", field="kind")
        before = found[0]
        after = change_state(before, change, uow.now())
        if not uow.promises.change_state(before, after):
            raise CompensationTransitionError(
                "the compensation changed meanwhile; look at it again", field="state"
            )
        audit.record(
            uow,
            cmd.shop_id,
            cmd.actor,
            f"compensation.{after.state.value}",
            "order_line",
            line.id,
            {
                "order_id": cmd.order_id,
                "line_no": cmd.line_no,
                "kind": after.kind.value,
                "from": before.state.value,
                "to": after.state.value,
                "amount_fen": after.amount_fen,
                "agreed_fen": after.agreed_fen,
                "settled_fen": after.settled_fen,
            },
            after.state_note or "",
        )
        uow.commit()
    return after


def list_compensations(
    shop_id: int,
    uow: UnitOfWork,
    *,
    states: tuple[CompensationState, ...] | None = None,
    limit: int = 1000,
) -> list[CompensationRecord]:
    with uow:
        shop_policy(uow, shop_id)  # an unknown shop is not found, not an empty list
        return uow.promises.compensations_of(shop_id, limit, states)
