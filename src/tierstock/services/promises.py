"""Watch every promise to its end (docs/rules.md §7): the board of open lines by urgency, the
periodic scan that records compensation, and the mass non-fulfilment risk.

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

from tierstock.domain.compensation import CompensationKind
from tierstock.domain.fulfilment import (
    URGENCY_ORDER,
    Exposure,
    ExposureSums,
    OpenLine,
    RiskLevel,
    exposure,
    risk_level,
    share_bp,
)
from tierstock.domain.policy import PolicyPack
from tierstock.policies import load_pack
from tierstock.services.catalogue import shop_policy
from tierstock.store.uow import UnitOfWork

SCAN_CHUNK_LINES = 250_000  # lines per transaction: a tuning knob, not a rule


@dataclass(frozen=True)
class PromiseView:
    line: OpenLine
    exposure: Exposure


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
    views = [PromiseView(ln, exposure(ln.paid_fen, ln.deadline, now, pack)) for ln in lines]
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
    with uow:
        now = uow.now()
        cutoff = now - timedelta(hours=pack.fulfilment.grace_hours)
        repo = uow.promises
        unshipped = repo.scan_shipped(
            shop_id, CompensationKind.UNSHIPPED, comp.unshipped, label, now, lo, hi
        )
        unshipped += repo.scan_lapsed(shop_id, comp.unshipped, label, now, cutoff, lo, hi)
        late = repo.scan_shipped(shop_id, CompensationKind.LATE, comp.late, label, now, lo, hi)
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
    recorded: dict[CompensationKind, tuple[int, int]]


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
    )
