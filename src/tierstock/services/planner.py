"""Plan a live session before it starts (直播前推演) — docs/rules.md §8.

``plan_live`` gathers what the pure planner needs — the shop's policy pack, the SKU's
sales form, price and tier stock, the shop's spot-order share over the pack's trailing
window — from the database where the command leaves it out, and runs
:func:`tierstock.domain.planner.plan_session`. It changes nothing (one read-only unit
of work). The API, the CLI and the workbench call it alike.

Presale is the SKU's real capacity as the order hot path sees it (docs/rules.md §5): the presale
tier's quantity and sold figures and the SKU's supplier batches (``batches_of_sku``), so
the plan sells the merchant's unbatched units first, then each confirmed batch's
unpromised units by ready date, and promises what ``place_order`` would. Batches given in
the command replace the SKU's presale entirely (a what-if: those batches, nothing
promised yet, no unbatched units).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tierstock.domain import burst
from tierstock.domain.eligibility import ShareCount
from tierstock.domain.errors import InvalidSalesFormError, InvalidValueError
from tierstock.domain.plan import Plan, PlanInput, PresaleStock, what_if
from tierstock.domain.planner import plan_session
from tierstock.domain.policy import EligibilityRules, PolicyPack
from tierstock.domain.sales_forms import SalesFormSpec, Tier, validate_sales_form
from tierstock.services.catalogue import require_sku, shop_policy
from tierstock.services.csv_rows import csv_rows
from tierstock.store.uow import UnitOfWork

MAX_BUYERS = 1_000_000
MAX_MINUTES = 1_440  # one day: a live session is shorter
MAX_BATCHES = 100
MAX_LOG_ROWS = 1_000_000
HORIZON = timedelta(days=366)  # how far from now a session, and from it a batch, may lie


@dataclass(frozen=True)
class BatchIn:
    """Confirmed capacity: ``quantity`` units ready on local date ``ready_on``."""

    quantity: int
    ready_on: date


@dataclass(frozen=True)
class PlanLive:
    """What to simulate. Leave out what the database knows: ``sku_id`` supplies the
    sales form, price, spot stock and presale capacity; the shop's paid lines supply
    the share before the session."""

    shop_id: int
    sku_id: int | None = None
    sales_form: SalesFormSpec | None = None
    price_fen: int | None = None
    spot_quantity: int | None = None
    batches: tuple[BatchIn, ...] | None = None
    buyers: int | None = None
    duration_minutes: int = 120
    curve_shape: str | None = None  # default "flat" when no points are given
    curve_points: tuple[tuple[int, float], ...] = ()
    quantities: tuple[tuple[int, int], ...] = ((1, 1),)  # (quantity, weight)
    order_log: tuple[tuple[datetime, int], ...] | None = None
    seed: int = 0
    starts_at: datetime | None = None
    slip_days: int = 0
    spot_lines: int | None = None  # share before the session: both or neither
    paid_lines: int | None = None


@dataclass(frozen=True)
class LivePlan:
    shop_id: int
    sku_id: int | None
    zone: ZoneInfo
    seed: int
    input: PlanInput
    plan: Plan
    rules: EligibilityRules


def plan_live(cmd: PlanLive, uow: UnitOfWork) -> LivePlan:
    """Simulate the session the command describes (docs/rules.md §8); read-only."""
    with uow:
        pack = shop_policy(uow, cmd.shop_id)
        now = uow.now()
        zone = ZoneInfo(pack.display_timezone)
        starts_at = _session_start(cmd.starts_at, now, zone)
        spec, price, spot, presale = _sku_figures(cmd, uow, pack, now)
        share = _share_before(cmd, uow, pack, now)
        presale = _presale(cmd, presale, starts_at, zone)
    arrivals = _arrivals(cmd, pack, zone)
    inp = PlanInput(starts_at, spec, spot, presale, arrivals, price, share, cmd.slip_days)
    return LivePlan(
        cmd.shop_id, cmd.sku_id, zone, cmd.seed, inp, plan_session(inp, pack), pack.eligibility
    )


def _aware(at: datetime, zone: ZoneInfo) -> datetime:
    """A naive time is read in the shop's display zone; stored and compared in UTC."""
    return (at if at.tzinfo else at.replace(tzinfo=zone)).astimezone(UTC)


def _session_start(at: datetime | None, now: datetime, zone: ZoneInfo) -> datetime:
    """Now, or the given start if it lies within a year of now (a plan further off
    has no stock or capacity to speak of, and dates near year 1 or 9999 overflow)."""
    if at is None:
        return now
    try:
        start = _aware(at, zone)
    except OverflowError:
        start = now + 2 * HORIZON
    if abs(start - now) > HORIZON:
        raise InvalidValueError("starts_at must lie within a year of now", field="starts_at")
    return start


def _sku_figures(
    cmd: PlanLive, uow: UnitOfWork, pack: PolicyPack, now: datetime
) -> tuple[SalesFormSpec, int, int, PresaleStock]:
    """Sales form, price, spot units and the presale tier with its supplier batches:
    the command's, else the SKU's."""
    spot, presale = 0, PresaleStock()
    spec, price = cmd.sales_form, cmd.price_fen
    if cmd.sku_id is not None:
        sku = require_sku(uow, cmd.shop_id, cmd.sku_id)
        held = uow.stock.tiers([sku.id]).get(sku.id, {})
        spot = held[Tier.SPOT].available if Tier.SPOT in held else 0
        if Tier.PRESALE in held:
            tier = held[Tier.PRESALE]
            presale = PresaleStock(
                tier.quantity, tier.sold, tuple(uow.capacity.batches_of_sku(sku.id)), stored=True
            )
        spec = spec or sku.sales_form
        price = sku.price_fen if price is None else price
    if spec is None:
        raise InvalidValueError("give a sku_id or a sales_form", field="sales_form")
    if price is None:
        raise InvalidValueError("give a sku_id or a price_fen", field="price_fen")
    if cmd.sales_form is not None:
        today = now.astimezone(ZoneInfo(pack.display_timezone)).date()
        try:
            spec = validate_sales_form(cmd.sales_form, pack, today=today)
        except InvalidSalesFormError as exc:
            raise InvalidSalesFormError(exc.message, field=f"sales_form.{exc.field}") from exc
    spot = spot if cmd.spot_quantity is None else cmd.spot_quantity
    return spec, price, spot, presale


def _share_before(cmd: PlanLive, uow: UnitOfWork, pack: PolicyPack, now: datetime) -> ShareCount:
    if (cmd.spot_lines is None) != (cmd.paid_lines is None):
        raise InvalidValueError(
            "give both spot_lines and paid_lines, or neither", field="spot_lines"
        )
    if cmd.spot_lines is not None and cmd.paid_lines is not None:
        if not 0 <= cmd.spot_lines <= cmd.paid_lines:
            raise InvalidValueError(
                "spot_lines must be between 0 and paid_lines", field="spot_lines"
            )
        return ShareCount(cmd.spot_lines, cmd.paid_lines)
    window = timedelta(days=pack.eligibility.window_days)
    return uow.eligibility.share(cmd.shop_id, now - window, now)


def _presale(
    cmd: PlanLive, stored: PresaleStock, starts_at: datetime, zone: ZoneInfo
) -> PresaleStock:
    """The command's batches (a what-if replacing the SKU's presale), else the SKU's."""
    if cmd.batches is None:
        return stored
    if len(cmd.batches) > MAX_BATCHES:
        raise InvalidValueError(f"at most {MAX_BATCHES} batches", field="batches")
    first_day = starts_at.astimezone(zone).date()
    for i, b in enumerate(cmd.batches):
        if abs(b.ready_on - first_day) > HORIZON:
            raise InvalidValueError(
                "a batch must be ready within a year of the session", field=f"batches[{i}].ready_on"
            )
    return what_if([(b.quantity, b.ready_on) for b in cmd.batches])


def _check_quantities(quantities: Iterable[int], pack: PolicyPack, field: str) -> None:
    top = pack.orders.max_line_quantity
    if any(not 1 <= q <= top for q in quantities):
        raise InvalidValueError(
            f"a buyer's quantity must be 1 to {top} (the pack's largest line)", field=field
        )


def _arrivals(cmd: PlanLive, pack: PolicyPack, zone: ZoneInfo) -> burst.Arrivals:
    """The burst: the order log replayed (or its shape scaled to ``buyers``), else
    ``buyers`` spread over the curve."""
    if cmd.buyers is not None and not 0 <= cmd.buyers <= MAX_BUYERS:
        raise InvalidValueError(f"buyers must be 0 to {MAX_BUYERS:,}", field="buyers")
    if cmd.order_log is not None:
        log = _log_minutes(cmd.order_log, zone)
        _check_quantities((q for _, q in log), pack, "order_log")
        if cmd.buyers is None:
            return burst.log_arrivals(log)
        per_minute = burst.log_arrivals(log).per_minute
        sizes = sorted(Counter(q for _, q in log).items())
        return burst.curve_arrivals(cmd.buyers, per_minute, sizes, cmd.seed)
    if cmd.buyers is None:
        raise InvalidValueError("give buyers (with a curve) or an order_log", field="buyers")
    if not 1 <= cmd.duration_minutes <= MAX_MINUTES:
        raise InvalidValueError(
            f"duration_minutes must be 1 to {MAX_MINUTES}", field="duration_minutes"
        )
    _check_quantities((q for q, _ in cmd.quantities), pack, "quantities")
    points = cmd.curve_points or burst.shape_points(cmd.curve_shape or "flat", cmd.duration_minutes)
    if any(not 0 <= m < cmd.duration_minutes for m, _ in points):
        raise InvalidValueError("curve minutes must lie inside the session", field="curve.points")
    weights = burst.curve_weights(points, cmd.duration_minutes)
    return burst.curve_arrivals(cmd.buyers, weights, cmd.quantities, cmd.seed)


def _log_minutes(log: Sequence[tuple[datetime, int]], zone: ZoneInfo) -> list[tuple[int, int]]:
    """Log rows as (minute of the clock counted from the first order's, quantity),
    payment order kept."""
    if not log:
        raise InvalidValueError("the order log has no orders", field="order_log")
    if len(log) > MAX_LOG_ROWS:
        raise InvalidValueError(
            f"the order log may hold {MAX_LOG_ROWS:,} orders at most", field="order_log"
        )
    try:
        times = [_aware(at, zone) for at, _ in log]
    except OverflowError:
        raise InvalidValueError("an order log time is out of range", field="order_log") from None
    first = min(times).replace(second=0, microsecond=0)  # minute 0: the first order's
    minutes = [int((t - first) // timedelta(minutes=1)) for t in times]
    if max(minutes) >= MAX_MINUTES:
        raise InvalidValueError("the order log spans more than 24 hours", field="order_log")
    return [(m, q) for m, (_, q) in zip(minutes, log, strict=True)]


def parse_order_log(text: str) -> tuple[tuple[datetime, int], ...]:
    """A past session's orders from CSV: payment time (ISO 8601; without an offset it
    is the shop's local time), quantity. A header row is skipped; blank rows too."""
    rows: list[tuple[datetime, int]] = []
    for n, row in enumerate(csv_rows(text, "order_log"), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        try:
            if len(cells) < 2:
                raise ValueError("needs a time and a quantity")
            at, qty = datetime.fromisoformat(cells[0]), int(cells[1])
        except ValueError as exc:
            if n == 1 and not rows:
                continue  # a header row
            raise InvalidValueError(f"order log row {n}: {exc}", field="order_log") from None
        rows.append((at, qty))
        if len(rows) > MAX_LOG_ROWS:
            raise InvalidValueError(
                f"the order log may hold {MAX_LOG_ROWS:,} orders at most", field="order_log"
            )
    return tuple(rows)
