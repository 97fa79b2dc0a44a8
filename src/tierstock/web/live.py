"""The live session view's figures, folded from the stock ledger — docs/rules.md §8.

A :class:`LiveTracker` belongs to one open live view. Each refresh (one every 500 ms,
however many orders arrived meanwhile) reads the chosen SKUs' tier rows and only the
ledger entries it has not seen yet, then folds them into: orders per minute, the
burn-down of each tier's available units, and the pace of spot sales over the last
minute, from which the minute spot runs out follows. The figures come from the
database, never from what the simulated buyers were told.

Promises at risk come from the services that own their rules, read at most once per
refresh whatever the number of orders (and every ``RISK_INTERVAL`` at most): the
shop's promise board cut at the pack's due-soon hours (paid, unshipped lines due soon
or overdue, with the compensation each would cost), and for SKUs with a presale tier
the capacity risk (presale lines a late or revised-down batch can no longer keep).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tierstock.domain.allocation import TierStock
from tierstock.domain.fulfilment import Urgency
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.sales_forms import Tier
from tierstock.services import capacity, catalogue, promises, stock
from tierstock.services.runtime import Runtime

PAGE = 2000
# Ledger rows are read by position (id order). On PostgreSQL a transaction may commit a
# row with a smaller id just after a larger one was read, so each read goes back this
# many rows and skips the entries it already folded.
OVERLAP = 200
PACE_WINDOW = timedelta(minutes=1)
MINUTES_SHOWN = 30
POINTS_KEPT = 600
# Promises at risk cost a few aggregate reads: refreshed on a tick at most this often.
RISK_INTERVAL = timedelta(seconds=2)
# Open lines due soon or overdue read per refresh, shop-wide; past it the counts are
# shown as "at least" (``truncated``).
RISK_LINES_READ = 10_000


def _second(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class SkuRisk:
    """One SKU's promises at risk at the last risk read.

    ``due_soon`` and ``overdue`` (lapsed included) count paid, unshipped lines from the
    promise board; ``exposure_fen`` is what they cost: the late compensation a due-soon
    line owes if it misses its deadline, and what an overdue or lapsed line owes now.
    ``batch_lines`` / ``batch_fen``: presale lines at risk from capacity batches, with
    their exposure (``None`` for a SKU without a presale tier). The two sets may
    overlap, so they are shown side by side, never added.
    """

    due_soon: int = 0
    overdue: int = 0
    exposure_fen: int = 0
    batch_lines: int | None = None
    batch_fen: int = 0


@dataclass
class SkuLive:
    """What one SKU's ledger has said so far."""

    sku_id: int
    code: str
    tiers_sold: tuple[Tier, ...]
    seen: int = 0
    quantity: dict[Tier, int] = field(default_factory=lambda: dict.fromkeys(Tier, 0))
    sold: dict[Tier, int] = field(default_factory=lambda: dict.fromkeys(Tier, 0))
    lines: int = 0
    burn: dict[datetime, tuple[int, int]] = field(default_factory=dict)
    spot_sales: deque[tuple[datetime, int]] = field(default_factory=deque)
    current: dict[Tier, TierStock] = field(default_factory=dict)
    recent: deque[LedgerEntry] = field(default_factory=deque)
    recent_set: set[LedgerEntry] = field(default_factory=set)
    risk: SkuRisk | None = None

    def unseen(self, entries: list[LedgerEntry]) -> list[LedgerEntry]:
        fresh = [e for e in entries if e not in self.recent_set]
        for e in fresh:
            self.recent.append(e)
            self.recent_set.add(e)
        while len(self.recent) > 4 * OVERLAP:
            self.recent_set.discard(self.recent.popleft())
        return fresh

    def fold(self, entries: list[LedgerEntry], orders_by_minute: dict[datetime, set[int]]) -> None:
        for e in entries:
            self.quantity[e.tier] += e.quantity_delta
            self.sold[e.tier] += e.sold_delta
            if e.kind is LedgerKind.SALE:
                self.lines += 1
                if e.order_id is not None:
                    orders_by_minute.setdefault(_minute(e.created_at), set()).add(e.order_id)
            if e.tier is Tier.SPOT and e.sold_delta:
                self.spot_sales.append((e.created_at, e.sold_delta))
            self.burn[_second(e.created_at)] = (
                self.available(Tier.SPOT),
                self.available(Tier.PRESALE),
            )
        self.seen += len(entries)
        if len(self.burn) > POINTS_KEPT:
            for key in sorted(self.burn)[: len(self.burn) - POINTS_KEPT]:
                del self.burn[key]

    def available(self, tier: Tier) -> int:
        return self.quantity[tier] - self.sold[tier]

    def spot_pace_per_minute(self, now: datetime) -> int:
        while self.spot_sales and self.spot_sales[0][0] < now - PACE_WINDOW:
            self.spot_sales.popleft()
        return sum(qty for _, qty in self.spot_sales)

    def spot_runs_out(self, now: datetime) -> datetime | None:
        """At the last minute's pace, when the spot tier's available units reach 0."""
        left = self.current[Tier.SPOT].available if Tier.SPOT in self.current else 0
        pace = self.spot_pace_per_minute(now)
        if Tier.SPOT not in self.tiers_sold or left <= 0 or pace <= 0:
            return None
        return now + timedelta(minutes=left / pace)


class LiveTracker:
    def __init__(self, runtime: Runtime, shop_id: int, sku_ids: list[int]) -> None:
        self.runtime = runtime
        self.shop_id = shop_id
        self.skus: list[SkuLive] = []
        for sku_id in sku_ids:
            code, tiers = _sku(runtime, shop_id, sku_id)
            self.skus.append(SkuLive(sku_id, code, tiers))
        self.orders_by_minute: dict[datetime, set[int]] = {}
        self.order_ids: set[int] = set()
        with runtime.uow(readonly=True) as uow:
            self.due_soon_hours = catalogue.shop_policy(uow, shop_id).fulfilment.due_soon_hours
        self.risk_read_at: datetime | None = None
        self.risk_truncated = False

    def refresh(self) -> datetime:
        """One read of the database: tier rows now, and ledger entries not yet seen."""
        for live in self.skus:
            live.current = dict(
                stock.read_stock(self.shop_id, live.sku_id, self.runtime.uow(readonly=True))
            )
            while True:
                start = max(0, live.seen - OVERLAP)
                page = stock.read_ledger(
                    self.shop_id,
                    live.sku_id,
                    self.runtime.uow(readonly=True),
                    offset=start,
                    limit=PAGE,
                )
                fresh = live.unseen(page)
                live.fold(fresh, self.orders_by_minute)
                self.order_ids.update(
                    e.order_id
                    for e in fresh
                    if e.kind is LedgerKind.SALE and e.order_id is not None
                )
                if len(page) < PAGE or not fresh:
                    break
        now = self.runtime.clock()
        for minute in [m for m in self.orders_by_minute if m < now - timedelta(hours=1)]:
            del self.orders_by_minute[minute]
        if self.risk_read_at is None or now - self.risk_read_at >= RISK_INTERVAL:
            self.refresh_risk()
            self.risk_read_at = now
        return now

    def refresh_risk(self) -> None:
        """Promises at risk for every chosen SKU: one promise-board read for the shop,
        then one capacity-risk read per SKU with a presale tier."""
        board = promises.promise_board(
            self.shop_id,
            self.runtime.uow(readonly=True),
            due_within_hours=self.due_soon_hours,
            limit=RISK_LINES_READ,
        )
        self.risk_truncated = len(board.lines) >= RISK_LINES_READ
        counts = {live.sku_id: [0, 0, 0] for live in self.skus}
        for view in board.lines:
            got = counts.get(view.line.sku_id)
            if got is None:
                continue
            if view.exposure.urgency is Urgency.DUE_SOON:
                got[0] += 1
                got[2] += view.exposure.next_fen or 0
            elif view.exposure.urgency is not Urgency.ON_TRACK:
                got[1] += 1
                got[2] += view.exposure.now_fen
        for live in self.skus:
            due_soon, overdue, fen = counts[live.sku_id]
            batch_lines, batch_fen = None, 0
            if Tier.PRESALE in live.tiers_sold:
                at_risk = capacity.capacity_risk(
                    self.shop_id, live.sku_id, self.runtime.uow(readonly=True)
                )
                batch_lines, batch_fen = len(at_risk.lines), at_risk.exposure_fen
            live.risk = SkuRisk(due_soon, overdue, fen, batch_lines, batch_fen)

    def snapshot(self, now: datetime) -> dict[str, Any]:
        """Plain JSON for the browser; times as epoch milliseconds (the page formats)."""
        first = _minute(now) - timedelta(minutes=MINUTES_SHOWN - 1)
        minutes = [first + timedelta(minutes=i) for i in range(MINUTES_SHOWN)]
        last_minute = sum(
            len(ids)
            for m, ids in self.orders_by_minute.items()
            if m >= _minute(now) - timedelta(minutes=1)
        )
        return {
            "now": _ms(now),
            "orders_per_minute": [[_ms(m), len(self.orders_by_minute.get(m, ()))] for m in minutes],
            "orders_last_minute": last_minute,
            "orders_total": len(self.order_ids),
            "skus": [_sku_snapshot(live, now) for live in self.skus],
            "risk_due_soon_hours": self.due_soon_hours,
            "risk_truncated": self.risk_truncated,
        }


def _sku(runtime: Runtime, shop_id: int, sku_id: int) -> tuple[str, tuple[Tier, ...]]:
    with runtime.uow(readonly=True) as uow:
        sku = catalogue.require_sku(uow, shop_id, sku_id)
    return sku.code, sku.sales_form.tiers


def _sku_snapshot(live: SkuLive, now: datetime) -> dict[str, Any]:
    tiers = {
        t.value: {"quantity": s.quantity, "sold": s.sold, "available": s.available}
        for t, s in live.current.items()
        if t in live.tiers_sold
    }
    points = sorted(live.burn.items())
    point_now = (
        live.current[Tier.SPOT].available if Tier.SPOT in live.current else 0,
        live.current[Tier.PRESALE].available if Tier.PRESALE in live.current else 0,
    )
    runs_out = live.spot_runs_out(now)
    risk = live.risk or SkuRisk()
    return {
        "sku_id": live.sku_id,
        "code": live.code,
        "tiers": tiers,
        "lines": live.lines,
        "spot_pace_per_minute": live.spot_pace_per_minute(now),
        "spot_runs_out": _ms(runs_out) if runs_out else None,
        "risk": {
            "due_soon": risk.due_soon,
            "overdue": risk.overdue,
            "exposure_fen": risk.exposure_fen,
            "batch_lines": risk.batch_lines,
            "batch_fen": risk.batch_fen,
        },
        "burn": {
            t.value: [[_ms(at), pair[i]] for at, pair in points] + [[_ms(now), point_now[i]]]
            for i, t in enumerate((Tier.SPOT, Tier.PRESALE))
            if t in live.tiers_sold
        },
    }


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)
