"""Live-burst planner (直播备货推演): simulate a live session before it starts — docs/rules.md §8.

Given spot stock, the presale tier with its supplier batches, the SKU's sales form and an
expected burst, the planner replays the session minute by minute exactly as the order
hot path (``services.placing.per_order.place_order``) would serve it, reusing its rules rather than
re-stating them: each line takes the first tier that holds it whole
(:func:`~tierstock.domain.allocation.choose_tier`); a spot line's deadline comes from
:func:`~tierstock.domain.promises.ship_by`; a presale line's from
:func:`~tierstock.domain.capacity.presale_ship_by` on the live unit order
(:func:`~tierstock.domain.capacity.layout_of`: the merchant's unbatched units first, then
confirmed batches by ready date), so the batch covering the line's *last* unit gives its
promise and a line that batch cannot ship inside the presale window is refused (nothing
allocated, as the live transaction rolls back). A slipped batch is priced with
:func:`~tierstock.domain.capacity.expected_ship` and
:func:`~tierstock.domain.compensation.owed_fen`; the spot-order share afterwards is judged
by :func:`~tierstock.domain.eligibility.judge`.

Model (assumptions, docs/rules.md §5, §8):
- The clock ticks in minutes: every buyer of minute ``m`` pays at ``starts_at + m``;
  within a minute buyers pay in arrival order (the burst: :mod:`tierstock.domain.burst`),
  each in its own order of one line.
- A batch slipping ``slip_days`` arrives on ``ready_on + slip_days``; its session lines
  whose promise the slipped batch can no longer keep owe *late* compensation, or
  *unshipped* once past the pack's grace period. Each batch is slipped alone; unbatched
  units and received batches do not slip; lines promised before the session are not
  counted (the capacity risk report covers them).
- The spot-order share after the session adds the session's lines to the shop's
  current window (nothing ages out during a session).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from tierstock.domain.allocation import choose_tier
from tierstock.domain.capacity import (
    BatchStatus,
    CapacityBeyondWindowError,
    CapacityLayout,
    expected_ship,
    presale_ship_by,
)
from tierstock.domain.compensation import CompensationKind, owed_fen
from tierstock.domain.eligibility import ShareCount, judge
from tierstock.domain.errors import InvalidValueError, PresaleEndedError
from tierstock.domain.plan import (
    MINUTE,
    BatchRisk,
    MinutePoint,
    Plan,
    PlanInput,
    PromiseCount,
    RefusalReason,
)
from tierstock.domain.policy import PolicyPack
from tierstock.domain.promises import ship_by
from tierstock.domain.sales_forms import Tier


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


#: A slot's answer for one minute: the promise, or why a line ending in it is refused.
Verdict = datetime | RefusalReason


@dataclass
class _Prepared:
    """What every replay of one input shares: prefix sums of the quantities, the
    buyers' indexes per quantity, the presale unit order and, per minute (computed
    when first needed), the spot deadline and each slot's verdict."""

    inp: PlanInput
    zone: ZoneInfo
    handling_days: int
    prefix: list[int]
    positions: list[tuple[int, list[int]]]  # each quantity, ascending: its buyers' indexes
    layout: CapacityLayout
    cache: dict[int, tuple[datetime | None, tuple[Verdict, ...]]] = field(default_factory=dict)

    def minute(self, m: int) -> tuple[datetime | None, tuple[Verdict, ...]]:
        if m not in self.cache:
            self.cache[m] = self._judge(self.inp.starts_at + m * MINUTE)
        return self.cache[m]

    def _judge(self, paid_at: datetime) -> tuple[datetime | None, tuple[Verdict, ...]]:
        spec = self.inp.sales_form
        spot = ship_by(paid_at, spec, Tier.SPOT, self.zone) if Tier.SPOT in spec.tiers else None
        verdicts: list[Verdict] = []
        if Tier.PRESALE in spec.tiers:
            for slot in self.layout.slots:
                try:
                    verdicts.append(
                        presale_ship_by(
                            self.layout, slot.end, 1, paid_at, spec, self.handling_days, self.zone
                        )
                    )
                except CapacityBeyondWindowError:
                    verdicts.append(RefusalReason.BEYOND_WINDOW)
                except PresaleEndedError:
                    verdicts.append(RefusalReason.PRESALE_ENDED)
        return spot, tuple(verdicts)


def _prepare(inp: PlanInput, pack: PolicyPack) -> _Prepared:
    qs = inp.arrivals.quantities
    positions: dict[int, list[int]] = {}
    for index, q in enumerate(qs):
        positions.setdefault(q, []).append(index)
    return _Prepared(
        inp,
        ZoneInfo(pack.display_timezone),
        pack.capacity.handling_days,
        list(accumulate(qs, initial=0)),
        sorted(positions.items()),
        inp.presale.layout,
    )


class _Session:
    """One replay of the session with ``spot_quantity`` spot units.

    Buyers could be taken one by one (``_one``: the hot path's steps for one line), but
    runs where every buyer of the run gets the same kind of answer are settled at once
    with prefix sums: buyers whose cumulative units fit spot; buyers too big for spot
    whose cumulative units stay inside the run of presale slots that promise this
    minute; buyers too big for spot that the presale tier refuses (their last unit would
    fall past that run, short of the next slot that promises). A session costs about one
    step per minute and per change of state, not one per buyer. ``test_planner`` checks
    it against buyer-by-buyer placement.
    """

    def __init__(
        self, inp: PlanInput, prep: _Prepared, spot_quantity: int, *, detail: bool
    ) -> None:
        self.inp, self.prep, self.prefix, self.detail = inp, prep, prep.prefix, detail
        self.zone = prep.zone
        self.tiers, self.qs = inp.sales_form.tiers, inp.arrivals.quantities
        self.slots = prep.layout.slots
        self.has_presale = Tier.PRESALE in self.tiers
        self.quantity = inp.presale.quantity if self.has_presale else 0
        self.sold = min(inp.presale.sold, self.quantity)
        self.backed = min(self.quantity, prep.layout.covered)
        self.spot_left = spot_quantity if Tier.SPOT in self.tiers else 0
        self.run = _Run(
            spot_sold_out=0 if Tier.SPOT in self.tiers and self.spot_left == 0 else None,
            capacity_sold_out=0 if self.has_presale and self._presale_left() == 0 else None,
        )
        self.promised: Counter[tuple[Tier, date, int]] = Counter()
        self.covered: Counter[tuple[int, int, int]] = Counter()  # (slot, minute, q)
        self.reasons: Counter[RefusalReason] = Counter()
        self.series: list[MinutePoint] = []
        self.i = 0
        self.spot_by: datetime | None = None
        self.verdicts: tuple[Verdict, ...] = ()

    def _presale_left(self) -> int:
        return max(0, self.backed - self.sold)

    def play(self) -> _Session:
        for minute, arriving in enumerate(self.inp.arrivals.per_minute):
            if arriving:
                self.spot_by, self.verdicts = self.prep.minute(minute)
            r = self.run
            before = (r.spot_units, r.presale_units, r.refused_buyers)
            end = self.i + arriving
            while self.i < end:
                self._step(minute, end)
            if self.detail:
                refused = r.refused_buyers - before[2]
                self.series.append(
                    MinutePoint(
                        minute,
                        arriving,
                        arriving - refused,
                        r.spot_units - before[0],
                        r.presale_units - before[1],
                        refused,
                        self.spot_left,
                        self._presale_left(),
                    )
                )
        return self

    # the presale tier this minute ---------------------------------------------------
    def _slot_at(self, position: int) -> int | None:
        """Index of the slot holding unit ``position`` (the layout's ``covering``)."""
        slot = self.prep.layout.covering(position)
        return None if slot is None else self.slots.index(slot)

    def _verdict(self, position: int) -> Verdict:
        """What the hot path answers a presale line whose last unit is ``position``."""
        if position > self.quantity:
            return RefusalReason.SOLD_OUT  # the tier's take fails
        k = self._slot_at(position)
        return RefusalReason.CAPACITY_EXHAUSTED if k is None else self.verdicts[k]

    def _room(self) -> tuple[int, int]:
        """Units sellable from ``sold`` on, all inside slots that promise this minute,
        and the distance to the next promising unit beyond them (``2**62``: none)."""
        none = 2**62
        if not self.has_presale:
            return 0, none
        position, end = self.sold + 1, self.sold
        for k, slot in enumerate(self.slots):
            if slot.end < position:
                continue
            if isinstance(self.verdicts[k], RefusalReason):
                break
            end = slot.end
        end = max(self.sold, min(end, self.backed))  # sold may lie past all capacity
        far = none
        for k, slot in enumerate(self.slots):
            if slot.end > end and not isinstance(self.verdicts[k], RefusalReason):
                start = max(slot.start, end) + 1
                if start <= self.quantity:
                    far = start - self.sold
                break
        return end - self.sold, far

    # one step -------------------------------------------------------------------------
    def _step(self, minute: int, end: int) -> None:
        i = self.i
        spot_run = min(bisect_right(self.prefix, self.prefix[i] + self.spot_left) - 1, end)
        if spot_run > i:  # buyers whose units all fit spot, one after another
            self._sell_spot(minute, i, spot_run)
            return
        # buyer i is too big for spot; so is everyone up to the next who fits it
        upto = self._next_within(self.spot_left, end) if self.spot_left else end
        room, far = self._room()
        presale_run = min(bisect_right(self.prefix, self.prefix[i] + room) - 1, upto)
        if presale_run > i:
            self._sell_presale(minute, i, presale_run)
            return
        stop = self._next_outside(room, far, upto)
        if stop > i:  # every last unit falls where nothing promises: refused
            self._refuse(i, stop)
            return
        self._one(minute)

    def _one(self, minute: int) -> None:
        """Buyer ``self.i`` through the hot path's steps, alone."""
        q = self.qs[self.i]
        available = {Tier.SPOT: self.spot_left, Tier.PRESALE: self.quantity - self.sold}
        tier = choose_tier(q, self.tiers, available)
        if tier is Tier.SPOT:
            self._sell_spot(minute, self.i, self.i + 1)
            return
        verdict = self._verdict(self.sold + q) if tier is Tier.PRESALE else RefusalReason.SOLD_OUT
        if isinstance(verdict, RefusalReason):
            self._refuse(self.i, self.i + 1)
        else:
            self._sell_presale(minute, self.i, self.i + 1)

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

    def _next_outside(self, low: int, high: int, end: int) -> int:
        """The first buyer from ``self.i`` on (before ``end``) wanting ≤ ``low`` or
        ≥ ``high`` units."""
        found = end
        for q, at in self.prep.positions:
            if low < q < high:
                continue
            j = bisect_left(at, self.i)
            if j < len(at) and at[j] < found:
                found = at[j]
        return found

    # outcomes -------------------------------------------------------------------------
    def _refuse(self, start: int, stop: int) -> None:
        self.run.refused_buyers += stop - start
        self.run.refused_units += self.prefix[stop] - self.prefix[start]
        self.i = stop
        if self.detail:
            for q, n in Counter(self.qs[start:stop]).items():
                verdict = (
                    self._verdict(self.sold + q) if q > self.spot_left else RefusalReason.SOLD_OUT
                )
                reason = verdict if isinstance(verdict, RefusalReason) else RefusalReason.SOLD_OUT
                self.reasons[reason] += n

    def _sell_spot(self, minute: int, start: int, stop: int) -> None:
        units, r = self.prefix[stop] - self.prefix[start], self.run
        self.i = stop
        self.spot_left -= units
        r.spot_lines, r.spot_units = r.spot_lines + stop - start, r.spot_units + units
        if self.spot_left == 0 and r.spot_sold_out is None:
            r.spot_sold_out = minute
        if self.detail:
            assert self.spot_by is not None
            day = self.spot_by.astimezone(self.zone).date()
            for q, n in Counter(self.qs[start:stop]).items():
                self.promised[(Tier.SPOT, day, q)] += n

    def _sell_presale(self, minute: int, start: int, stop: int) -> None:
        """Buyers ``start``..``stop`` (exclusive) take presale one after another; each
        line's promise is its last unit's slot's (split the run at slot ends)."""
        units, r = self.prefix[stop] - self.prefix[start], self.run
        if self.detail:
            base = self.sold - self.prefix[start]  # last unit of buyer j: base + prefix[j+1]
            j = start
            while j < stop:
                k = self._slot_at(base + self.prefix[j + 1])
                assert k is not None
                upto = min(bisect_right(self.prefix, self.slots[k].end - base) - 1, stop)
                promise = self.verdicts[k]
                assert isinstance(promise, datetime)
                day = promise.astimezone(self.zone).date()
                for q, n in Counter(self.qs[j:upto]).items():
                    self.promised[(Tier.PRESALE, day, q)] += n
                    self.covered[(k, minute, q)] += n
                j = upto
        self.i = stop
        self.sold += units
        r.presale_lines, r.presale_units = r.presale_lines + stop - start, r.presale_units + units
        if self._presale_left() == 0 and r.capacity_sold_out is None:
            r.capacity_sold_out = minute


def _risks(
    inp: PlanInput, pack: PolicyPack, prep: _Prepared, covered: Counter[tuple[int, int, int]]
) -> tuple[BatchRisk, ...]:
    """Each confirmed batch slipped alone by ``slip_days``: the session's lines it
    covers whose promise the slipped batch misses (``capacity.expected_ship``), and what
    they would owe under the pack's late / unshipped rules (docs/rules.md §7)."""
    zone, layout = prep.zone, prep.layout
    slip = timedelta(days=inp.slip_days)
    grace = timedelta(hours=pack.fulfilment.grace_hours)
    # per slot: lines, units, late lines, unshipped lines, compensation
    sums = {k: [0, 0, 0, 0, 0] for k in range(len(layout.slots))}
    arrives: dict[int, datetime] = {}
    for (k, minute, q), n in covered.items():
        batch = layout.slots[k].batch
        if batch is None or batch.status is not BatchStatus.CONFIRMED:
            continue
        acc = sums[k]
        acc[0] += n
        acc[1] += n * q
        if k not in arrives:
            slipped = replace(batch, ready_on=batch.ready_on + slip)
            arrives[k] = expected_ship(slipped, inp.starts_at, prep.handling_days, zone)
        promise = prep.minute(minute)[1][k]
        assert isinstance(promise, datetime)
        if arrives[k] <= promise:
            continue
        late = arrives[k] <= promise + grace
        kind = CompensationKind.LATE if late else CompensationKind.UNSHIPPED
        acc[2 if late else 3] += n
        acc[4] += n * owed_fen(kind, q * inp.price_fen, pack.compensation)
    by_batch = {slot.batch.id: k for k, slot in enumerate(layout.slots) if slot.batch is not None}
    found = []
    for index, b in enumerate(inp.presale.batches):
        if b.status is not BatchStatus.CONFIRMED:
            continue
        slot = by_batch.get(b.id)
        acc = sums[slot] if slot is not None else [0, 0, 0, 0, 0]
        before = layout.promised_in(b.id, inp.presale.sold)
        found.append(
            BatchRisk(
                index, b.id if inp.presale.stored else None, b.ready_on, b.quantity, before, *acc
            )
        )
    return tuple(found)


def _share_after(before: ShareCount, run: _Run) -> ShareCount:
    return ShareCount(
        before.spot_lines + run.spot_lines, before.paid_lines + run.spot_lines + run.presale_lines
    )


def _eligible(inp: PlanInput, pack: PolicyPack, spot_quantity: int, prep: _Prepared) -> bool:
    run = _Session(inp, prep, spot_quantity, detail=False).play().run
    return judge(None, _share_after(inp.share_before, run), pack.eligibility).eligible


def spot_needed(inp: PlanInput, pack: PolicyPack, prep: _Prepared | None = None) -> int | None:
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
    presale = inp.presale
    if any(b.quantity < 0 for b in presale.batches):
        raise InvalidValueError("a batch quantity must not be negative", field="batches")
    if not 0 <= presale.sold <= presale.quantity:
        raise InvalidValueError(
            "presale sold units must be 0 to the tier's quantity", field="presale"
        )
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
    that keeps the shop's spot-order share eligible (docs/rules.md §6, §8)."""
    check_input(inp)
    prep = _prepare(inp, pack)
    session = _Session(inp, prep, inp.spot_quantity, detail=True).play()
    run, promised, covered, series = (
        session.run,
        session.promised,
        session.covered,
        session.series,
    )
    totals: Counter[tuple[Tier, date]] = Counter()
    units: Counter[tuple[Tier, date]] = Counter()
    for (tier, day, q), n in promised.items():
        totals[(tier, day)] += n
        units[(tier, day)] += n * q
    promises = tuple(
        PromiseCount(t, d, totals[(t, d)], units[(t, d)])
        for t, d in sorted(totals, key=lambda k: (k[0] != Tier.SPOT, k[1]))
    )
    after = _share_after(inp.share_before, run)
    return Plan(
        buyers=len(inp.arrivals.quantities),
        spot_lines=run.spot_lines,
        spot_units=run.spot_units,
        presale_lines=run.presale_lines,
        presale_units=run.presale_units,
        refused_buyers=run.refused_buyers,
        refused_units=run.refused_units,
        spot_sold_out_minute=run.spot_sold_out,
        capacity_sold_out_minute=run.capacity_sold_out,
        promises=promises,
        series=tuple(series),
        share_before=inp.share_before,
        share_after=after,
        eligible_after=judge(None, after, pack.eligibility).eligible,
        slip_days=inp.slip_days,
        risks=_risks(inp, pack, prep, covered),
        spot_needed=spot_needed(inp, pack, prep) if search else None,
        refusals=tuple(sorted(session.reasons.items())),
    )
