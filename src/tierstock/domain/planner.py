"""Live-burst planner (直播备货推演): simulate a live session before it starts — SPEC §8.

Given spot stock, confirmed capacity batches, the SKU's sales form and an expected burst,
the planner replays the session minute by minute with the rules the live system uses:
each line takes a tier by :func:`~tierstock.domain.allocation.choose_tier`, its deadline
comes from :func:`~tierstock.domain.promises.ship_by`, a slipped batch is priced with
:func:`~tierstock.domain.compensation.owed_fen`, and the spot-order share afterwards is
judged by :func:`~tierstock.domain.eligibility.judge`. Nothing here re-states a rule.

Model (assumptions, SPEC §5 and DESIGN "every sellable unit sits in a batch"):
- The clock ticks in minutes: every buyer of minute ``m`` pays at ``starts_at + m``;
  within a minute buyers pay in arrival order (the burst: :mod:`tierstock.domain.burst`).
- A presale line is covered by the earliest-ready batch that holds its whole quantity
  and is ready by the line's deadline; the presale tier holds a line if such a batch
  exists. A batch ready after a line's deadline cannot cover that line (no promise is
  made that is already broken).
- A batch that slips ships its lines when it arrives: a line whose deadline is then
  missed owes *late* compensation, or *unshipped* once past the pack's grace period.
- The spot-order share after the session adds the session's lines to the shop's
  current window (nothing ages out during a session).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from tierstock.domain.allocation import choose_tier
from tierstock.domain.burst import Arrivals
from tierstock.domain.compensation import CompensationKind, owed_fen
from tierstock.domain.eligibility import ShareCount, judge
from tierstock.domain.errors import InvalidValueError, PresaleEndedError
from tierstock.domain.policy import PolicyPack
from tierstock.domain.promises import ship_by
from tierstock.domain.sales_forms import SalesFormSpec, Tier

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class CapacityBatch:
    """Confirmed capacity (产能): ``quantity`` units that can ship from ``ready_at``."""

    quantity: int
    ready_at: datetime


@dataclass(frozen=True)
class PlanInput:
    starts_at: datetime
    sales_form: SalesFormSpec
    spot_quantity: int
    batches: tuple[CapacityBatch, ...]
    arrivals: Arrivals
    price_fen: int
    share_before: ShareCount
    slip_days: int = 0


@dataclass(frozen=True)
class PromiseCount:
    """Lines promised from ``tier`` with a deadline on local date ``ship_by_date``."""

    tier: Tier
    ship_by_date: date
    lines: int
    units: int


@dataclass(frozen=True)
class MinutePoint:
    """One minute of the session, for the burn-down chart (remaining = end of minute)."""

    minute: int
    buyers: int
    lines: int
    spot_units: int
    presale_units: int
    refused: int
    spot_left: int
    presale_left: int


@dataclass(frozen=True)
class BatchRisk:
    """What one batch slipping by ``slip_days`` breaks, and what it would cost."""

    index: int
    ready_at: datetime
    quantity: int
    lines: int
    units: int
    late_lines: int
    unshipped_lines: int
    compensation_fen: int


@dataclass(frozen=True)
class Plan:
    buyers: int
    spot_lines: int
    spot_units: int
    presale_lines: int
    presale_units: int
    refused_buyers: int
    refused_units: int
    spot_sold_out_minute: int | None
    capacity_sold_out_minute: int | None
    promises: tuple[PromiseCount, ...]
    series: tuple[MinutePoint, ...]
    share_before: ShareCount
    share_after: ShareCount
    eligible_after: bool
    slip_days: int
    risks: tuple[BatchRisk, ...]
    spot_needed: int | None  # least spot quantity keeping the share eligible, if any

    @property
    def compensation_at_risk_fen(self) -> int:
        return sum(r.compensation_fen for r in self.risks)


# the session ----------------------------------------------------------------------------
@dataclass
class _Run:
    spot_lines: int = 0
    spot_units: int = 0
    presale_lines: int = 0
    presale_units: int = 0
    refused_buyers: int = 0
    refused_units: int = 0
    spot_sold_out: int | None = None
    capacity_sold_out: int | None = None


def _deadline(paid_at: datetime, spec: SalesFormSpec, tier: Tier,
              zone: ZoneInfo) -> datetime | None:
    if tier not in spec.tiers:
        return None
    try:
        return ship_by(paid_at, spec, tier, zone)
    except PresaleEndedError:
        return None


@dataclass(frozen=True)
class _Prepared:
    """What every replay of one input shares: prefix sums of the quantities, the
    deadlines of each minute and the batches (by position in ``order``, earliest ready
    first) that are ready by each minute's presale deadline."""

    zone: ZoneInfo
    prefix: list[int]
    smallest: int
    largest: int
    order: list[int]
    deadlines: list[dict[Tier, datetime | None]]
    usable: list[tuple[int, ...]]
    positions: list[tuple[int, list[int]]]  # each quantity, ascending: its buyers' indexes


def _prepare(inp: PlanInput, pack: PolicyPack) -> _Prepared:
    zone = ZoneInfo(pack.display_timezone)
    qs, batches = inp.arrivals.quantities, inp.batches
    order = sorted(range(len(batches)), key=lambda i: (batches[i].ready_at, i))
    deadlines, usable = [], []
    for minute in range(len(inp.arrivals.per_minute)):
        paid_at = inp.starts_at + minute * MINUTE
        by = {t: _deadline(paid_at, inp.sales_form, t, zone) for t in Tier}
        presale_by = by[Tier.PRESALE]
        deadlines.append(by)
        usable.append(tuple(k for k, b in enumerate(order) if presale_by is not None
                            and batches[b].ready_at <= presale_by))
    positions: dict[int, list[int]] = {}
    for index, q in enumerate(qs):
        positions.setdefault(q, []).append(index)
    return _Prepared(zone, list(accumulate(qs, initial=0)), min(qs, default=1),
                     max(qs, default=1), order, deadlines, usable, sorted(positions.items()))


class _Session:
    """One replay of the session with ``spot_quantity`` spot units.

    Buyers are taken one by one through ``choose_tier``, except for runs where the rule
    gives every buyer of the run the same answer: buyers wanting more than any tier
    holds (refused), buyers all fitting spot, or buyers too big for spot all fitting one
    presale batch (the earliest usable one, holding even the largest quantity). Those
    runs are settled at once with prefix sums and, per quantity, the sorted indexes of
    the buyers wanting it; a session costs about one step per minute and per change of
    state, not one per buyer. ``test_planner`` checks it against buyer-by-buyer.
    """

    def __init__(self, inp: PlanInput, prep: _Prepared, spot_quantity: int, *,
                 detail: bool) -> None:
        self.inp, self.prep, self.prefix, self.detail = inp, prep, prep.prefix, detail
        self.zone = prep.zone
        self.tiers, self.qs = inp.sales_form.tiers, inp.arrivals.quantities
        self.order = prep.order
        self.left = [inp.batches[i].quantity for i in self.order]
        self.capacity = sum(self.left)
        self.spot_left = spot_quantity if Tier.SPOT in self.tiers else 0
        self.smallest, self.largest = prep.smallest, prep.largest
        self.run = _Run(
            spot_sold_out=0 if Tier.SPOT in self.tiers and self.spot_left == 0 else None,
            capacity_sold_out=0 if Tier.PRESALE in self.tiers and self.capacity == 0 else None)
        self.promised: Counter[tuple[Tier, date, int]] = Counter()
        self.covered: Counter[tuple[int, int, int]] = Counter()
        self.series: list[MinutePoint] = []
        self.i = 0
        self.usable: Sequence[int] = ()
        self.by: dict[Tier, datetime | None] = {}

    def play(self) -> _Session:
        for minute, arriving in enumerate(self.inp.arrivals.per_minute):
            self.by, self.usable = self.prep.deadlines[minute], self.prep.usable[minute]
            r = self.run
            before = (r.spot_units, r.presale_units, r.refused_buyers)
            end = self.i + arriving
            while self.i < end:
                self._step(minute, end)
            if self.detail:
                refused = r.refused_buyers - before[2]
                self.series.append(MinutePoint(
                    minute, arriving, arriving - refused, r.spot_units - before[0],
                    r.presale_units - before[1], refused, self.spot_left, self.capacity))
        return self

    def _available(self) -> dict[Tier, int]:
        hold = max((self.left[k] for k in self.usable), default=0)
        return {Tier.SPOT: self.spot_left, Tier.PRESALE: hold}

    def _step(self, minute: int, end: int) -> None:
        available = self._available()
        cap = max(available[t] for t in self.tiers)
        fits = self.i if cap >= self.largest else self._next_within(cap, end)
        if fits > self.i:  # buyers no tier can hold: refused, up to the next that fits
            self._refuse(fits)
            return
        spot = available[Tier.SPOT] if Tier.SPOT in self.tiers else 0
        tier: Tier | None = Tier.SPOT
        k, room, upto = None, spot, end  # a run of buyers all fitting spot ...
        if spot < self.largest:  # ... or of buyers too big for spot, all fitting a batch
            upto = self._next_within(spot, end)
            tier = choose_tier(self.smallest, self.tiers, {**available, Tier.SPOT: 0})
            k = self._batch(self.smallest) if tier is Tier.PRESALE else None
            room = 0 if k is None or upto == self.i else self.left[k]
        if tier is not None and room >= self.largest:
            last = bisect_right(self.prefix, self.prefix[self.i] + room - self.largest) - 1
            self._sell(tier, k, minute, self.i, min(last + 1, upto))
            return
        q = self.qs[self.i]
        tier = choose_tier(q, self.tiers, available)
        if tier is None:
            self._refuse(self.i + 1)
            return
        self._sell(tier, self._batch(q) if tier is Tier.PRESALE else None, minute,
                   self.i, self.i + 1)

    def _refuse(self, stop: int) -> None:
        self.run.refused_buyers += stop - self.i
        self.run.refused_units += self.prefix[stop] - self.prefix[self.i]
        self.i = stop

    def _next_within(self, limit: int, end: int) -> int:
        """The first buyer from ``self.i`` on (before ``end``) wanting ≤ ``limit`` units."""
        found = end
        for q, at in self.prep.positions:
            if q > limit:
                break
            j = bisect_left(at, self.i)
            if j < len(at) and at[j] < found:
                found = at[j]
        return found

    def _batch(self, q: int) -> int:
        """The earliest-ready usable batch that holds ``q`` whole."""
        return next(k for k in self.usable if self.left[k] >= q)

    def _sell(self, tier: Tier, k: int | None, minute: int, start: int, stop: int) -> None:
        """Buyers ``start``..``stop`` (exclusive) all take ``tier`` (batch ``k``)."""
        units, lines, r = self.prefix[stop] - self.prefix[start], stop - start, self.run
        self.i = stop
        deadline = self.by[tier]
        assert deadline is not None
        sizes = Counter(self.qs[start:stop]) if self.detail else Counter[int]()
        day = deadline.astimezone(self.zone).date()
        for q, n in sizes.items():
            self.promised[(tier, day, q)] += n
        if k is None:
            self.spot_left -= units
            r.spot_lines, r.spot_units = r.spot_lines + lines, r.spot_units + units
            if self.spot_left == 0 and r.spot_sold_out is None:
                r.spot_sold_out = minute
            return
        self.left[k] -= units
        self.capacity -= units
        r.presale_lines, r.presale_units = r.presale_lines + lines, r.presale_units + units
        for q, n in sizes.items():
            self.covered[(self.order[k], minute, q)] += n
        if self.capacity == 0 and r.capacity_sold_out is None:
            r.capacity_sold_out = minute


def _risks(inp: PlanInput, pack: PolicyPack, covered: Counter[tuple[int, int, int]]
           ) -> tuple[BatchRisk, ...]:
    """Each batch slipped alone by ``slip_days``: its lines whose deadline is missed,
    and what they would owe under the pack's late / unshipped rules (SPEC §7)."""
    zone = ZoneInfo(pack.display_timezone)
    slip = timedelta(days=inp.slip_days)
    grace = timedelta(hours=pack.fulfilment.grace_hours)
    deadlines: dict[int, datetime | None] = {}
    # per batch: lines, units, late lines, unshipped lines, compensation
    sums = [[0, 0, 0, 0, 0] for _ in inp.batches]
    for (b, minute, q), n in covered.items():
        if minute not in deadlines:
            deadlines[minute] = _deadline(inp.starts_at + minute * MINUTE, inp.sales_form,
                                          Tier.PRESALE, zone)
        deadline, acc = deadlines[minute], sums[b]
        assert deadline is not None  # the line was promised, so presale was open
        acc[0] += n
        acc[1] += n * q
        arrives = inp.batches[b].ready_at + slip
        if arrives <= deadline:
            continue
        late = arrives <= deadline + grace
        kind = CompensationKind.LATE if late else CompensationKind.UNSHIPPED
        acc[2 if late else 3] += n
        acc[4] += n * owed_fen(kind, q * inp.price_fen, pack.compensation)
    return tuple(BatchRisk(i, b.ready_at, b.quantity, *sums[i])
                 for i, b in enumerate(inp.batches))


def _share_after(before: ShareCount, run: _Run) -> ShareCount:
    return ShareCount(before.spot_lines + run.spot_lines,
                      before.paid_lines + run.spot_lines + run.presale_lines)


def _eligible(inp: PlanInput, pack: PolicyPack, spot_quantity: int,
              prep: _Prepared) -> bool:
    run = _Session(inp, prep, spot_quantity, detail=False).play().run
    return judge(None, _share_after(inp.share_before, run), pack.eligibility).eligible


def spot_needed(inp: PlanInput, pack: PolicyPack, prep: _Prepared | None = None
                ) -> int | None:
    """The least spot quantity whose session leaves the spot-order share eligible, the
    burst and the capacity unchanged: bisection between 0 and the burst's whole demand.
    With one-unit buyers the share only rises with spot, so the answer is exact; with
    mixed quantities it is eligible and one unit less is not. ``None``: even spot for
    every buyer is not enough, or the form sells no spot."""
    if Tier.SPOT not in inp.sales_form.tiers:
        return None
    prep = prep or _prepare(inp, pack)
    low, high = 0, prep.prefix[-1]
    if not _eligible(inp, pack, high, prep):
        return None
    while low < high:
        middle = (low + high) // 2
        if _eligible(inp, pack, middle, prep):
            high = middle
        else:
            low = middle + 1
    return low


def check_input(inp: PlanInput) -> None:
    if inp.starts_at.tzinfo is None:
        raise InvalidValueError("starts_at must carry a time zone", field="starts_at")
    if inp.spot_quantity < 0:
        raise InvalidValueError("spot quantity must not be negative", field="spot_quantity")
    if any(b.quantity < 0 for b in inp.batches):
        raise InvalidValueError("a batch quantity must not be negative", field="batches")
    if inp.price_fen <= 0:
        raise InvalidValueError("price_fen must be positive", field="price_fen")
    if inp.slip_days < 0:
        raise InvalidValueError("slip_days must not be negative", field="slip_days")
    if sum(inp.arrivals.per_minute) != len(inp.arrivals.quantities):
        raise InvalidValueError("arrivals and quantities disagree", field="buyers")
    if min(inp.arrivals.quantities, default=1) < 1:
        raise InvalidValueError("every buyer wants at least one unit", field="quantities")


def plan_session(inp: PlanInput, pack: PolicyPack, *, search: bool = True) -> Plan:
    """Simulate the session, price a slip of every batch, and search the spot quantity
    that keeps the shop's spot-order share eligible (SPEC §6, §8)."""
    check_input(inp)
    prep = _prepare(inp, pack)
    session = _Session(inp, prep, inp.spot_quantity, detail=True).play()
    run, promised, covered, series = (session.run, session.promised, session.covered,
                                      session.series)
    totals: Counter[tuple[Tier, date]] = Counter()
    units: Counter[tuple[Tier, date]] = Counter()
    for (tier, day, q), n in promised.items():
        totals[(tier, day)] += n
        units[(tier, day)] += n * q
    promises = tuple(PromiseCount(t, d, totals[(t, d)], units[(t, d)])
                     for t, d in sorted(totals, key=lambda k: (k[0] != Tier.SPOT, k[1])))
    after = _share_after(inp.share_before, run)
    return Plan(
        buyers=len(inp.arrivals.quantities), spot_lines=run.spot_lines,
        spot_units=run.spot_units, presale_lines=run.presale_lines,
        presale_units=run.presale_units, refused_buyers=run.refused_buyers,
        refused_units=run.refused_units, spot_sold_out_minute=run.spot_sold_out,
        capacity_sold_out_minute=run.capacity_sold_out, promises=promises,
        series=tuple(series), share_before=inp.share_before, share_after=after,
        eligible_after=judge(None, after, pack.eligibility).eligible,
        slip_days=inp.slip_days, risks=_risks(inp, pack, covered),
        spot_needed=spot_needed(inp, pack, prep) if search else None,
    )
