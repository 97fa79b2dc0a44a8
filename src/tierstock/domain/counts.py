"""Stock counts (库存盘点) — docs/rules.md §3–4. Pure: values, variance and the adjustment rule.

A count belongs to one warehouse of a shop (for now every shop has one warehouse,
``main``). Sales go on while people count, so each counted line is compared with the
system's on-hand stock *at the moment it was counted* (ledger and shipments up to then),
never with the figure at approval: the units sold and shipped between counting and
approval are real movements the adjustment must not undo.

A SKU may be counted at several locations (库位); its counted stock is the sum of its
lines and its system stock is the on-hand figure at its latest line's moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tierstock.domain.access import ForbiddenError, Role
from tierstock.domain.errors import DomainError

DEFAULT_WAREHOUSE = "main"
#: Roles that may approve a count: the owner, and the warehouse that holds the goods.
#: An operator (who sells) may open and enter counts but not rewrite stock with them.
APPROVER_ROLES = frozenset({Role.OWNER, Role.WAREHOUSE})
MAX_COUNTED = 10_000_000


class CountStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"


class CountOpenError(DomainError):
    """A warehouse has at most one open count: two would adjust the same stock twice."""

    code = "count_already_open"
    kind = "conflict"


class CountClosedError(DomainError):
    code = "count_not_open"
    kind = "conflict"


class CountRowsError(DomainError):
    """Some entries were refused; nothing was saved. ``rows`` says which and why."""

    code = "invalid_count_rows"
    kind = "invalid"

    def __init__(self, rows: tuple[RowError, ...], *, field: str | None = None) -> None:
        shown = "; ".join(r.describe() for r in rows[:20])
        more = f" (and {len(rows) - 20} more)" if len(rows) > 20 else ""
        super().__init__(
            f"{len(rows)} row(s) refused, nothing saved: {shown}{more}",
            field=field or (rows[0].field if rows else None),
        )
        self.rows = rows


@dataclass(frozen=True)
class RowError:
    """One refused row: its number (spreadsheet row, or entry index) and the reason."""

    row: int
    field: str
    message: str

    def describe(self) -> str:
        return f"row {self.row} ({self.field}): {self.message}"


def ensure_may_approve(role: str) -> None:
    if role not in {r.value for r in APPROVER_ROLES}:
        raise ForbiddenError(
            f"a key with role {role!r} may not approve a stock count (owner or warehouse only)",
            field="X-API-Key",
        )


@dataclass(frozen=True)
class StockCount:
    id: int
    shop_id: int
    warehouse: str
    status: CountStatus
    sku_ids: tuple[int, ...] | None  # None: every SKU of the shop
    opened_at: datetime
    opened_by: str
    note: str = ""
    approved_at: datetime | None = None
    approved_by: str | None = None

    def covers(self, sku_id: int) -> bool:
        return self.sku_ids is None or sku_id in self.sku_ids


@dataclass(frozen=True)
class CountEntry:
    """What a counter wrote down: ``counted`` units of a SKU at a location."""

    sku_code: str
    counted: int
    location: str = ""
    counter: str = ""
    unit_cost_fen: int | None = None
    counted_at: datetime | None = None  # default: when it is entered


@dataclass(frozen=True)
class CountLine:
    sku_id: int
    sku_code: str
    location: str
    counted: int
    system_on_hand: int  # on-hand at ``counted_at``
    counted_at: datetime
    counter: str
    unit_cost_fen: int | None


@dataclass(frozen=True)
class SkuVariance:
    """One SKU's counted stock against the system's at the moment it was counted."""

    sku_id: int
    sku_code: str
    counted: int
    system_on_hand: int
    counted_at: datetime
    locations: tuple[str, ...]
    unit_cost_fen: int | None

    @property
    def variance(self) -> int:
        return self.counted - self.system_on_hand

    @property
    def value_fen(self) -> int | None:
        return None if self.unit_cost_fen is None else self.variance * self.unit_cost_fen


@dataclass(frozen=True)
class VarianceReport:
    count: StockCount
    skus: tuple[SkuVariance, ...]
    not_counted: tuple[str, ...]  # codes of SKUs in scope with no line yet

    @property
    def skus_off(self) -> int:
        return sum(1 for s in self.skus if s.variance)

    @property
    def share_off(self) -> float:
        """Share of counted SKUs whose count differs from the system (0 when none)."""
        return self.skus_off / len(self.skus) if self.skus else 0.0

    @property
    def net_quantity(self) -> int:
        return sum(s.variance for s in self.skus)

    @property
    def gross_quantity(self) -> int:
        return sum(abs(s.variance) for s in self.skus)

    @property
    def net_value_fen(self) -> int:
        return sum(s.value_fen or 0 for s in self.skus)

    @property
    def gross_value_fen(self) -> int:
        return sum(abs(s.value_fen or 0) for s in self.skus)

    @property
    def without_cost(self) -> tuple[str, ...]:
        """SKUs off whose value is unknown (no cost given): the value totals omit them."""
        return tuple(s.sku_code for s in self.skus if s.variance and s.unit_cost_fen is None)


def sku_variances(lines: Iterable[CountLine]) -> tuple[SkuVariance, ...]:
    """Group lines per SKU (in SKU-id order): counted = sum over locations, system =
    on-hand at the latest line, cost = the latest line's cost that was given."""
    by_sku: dict[int, list[CountLine]] = {}
    for line in lines:
        by_sku.setdefault(line.sku_id, []).append(line)
    out = []
    for sku_id in sorted(by_sku):
        group = sorted(by_sku[sku_id], key=lambda ln: (ln.counted_at, ln.location))
        latest = group[-1]
        costs = [ln.unit_cost_fen for ln in group if ln.unit_cost_fen is not None]
        out.append(
            SkuVariance(
                sku_id,
                latest.sku_code,
                sum(ln.counted for ln in group),
                latest.system_on_hand,
                latest.counted_at,
                tuple(ln.location for ln in group),
                costs[-1] if costs else None,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class PromisedLine:
    """An open (paid, unshipped) spot line: a promise the shelf must still keep."""

    order_id: int
    line_no: int
    quantity: int
    paid_at: datetime
    ship_by: datetime
    buyer: str | None


@dataclass(frozen=True)
class SpotAdjustment:
    """How approval moves a SKU's spot tier so that on-hand equals the count.

    ``target`` is the tier quantity the count asks for (current quantity + variance).
    The tier can never hold fewer units than are promised to paid lines (the CHECK
    ``sold <= quantity``), so the quantity becomes max(sold, target) and ``shortfall``
    is how many promised units the shelf no longer has.
    """

    quantity_before: int
    sold: int
    variance: int

    @property
    def target(self) -> int:
        return self.quantity_before + self.variance

    @property
    def quantity_after(self) -> int:
        return max(self.sold, self.target)

    @property
    def delta(self) -> int:
        return self.quantity_after - self.quantity_before

    @property
    def shortfall(self) -> int:
        return max(0, self.sold - self.target)


def parse_counted(value: object) -> int:
    """A counted quantity as warehouse sheets hold it: ``12``, ``"12"``, ``12.0``,
    ``"1,200"``. Refuses blanks, fractions, negatives and text (ValueError, merchant's
    words)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("counted quantity is missing")
    if isinstance(value, bool):
        raise ValueError(f"counted quantity {value!r} is not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"counted quantity {value:g} is not a whole number")
        number = int(value)
    else:
        text = str(value).strip().replace(",", "").replace("，", "")
        try:
            as_float = float(text)
        except ValueError:
            raise ValueError(f"counted quantity {str(value).strip()!r} is not a number") from None
        if not as_float.is_integer():
            raise ValueError(f"counted quantity {text} is not a whole number")
        number = int(as_float)
    if number < 0:
        raise ValueError(f"counted quantity {number} is negative")
    if number > MAX_COUNTED:
        raise ValueError(f"counted quantity {number} is more than {MAX_COUNTED}")
    return number


def duplicate_rows(keys: Iterable[tuple[int, tuple[str, str]]]) -> dict[int, list[int]]:
    """Rows whose (SKU code, location) appears more than once: row → every row of that
    key. All copies are refused — nothing says which of two figures is right."""
    seen: dict[tuple[str, str], list[int]] = {}
    for row, key in keys:
        seen.setdefault(key, []).append(row)
    return {row: rows for rows in seen.values() if len(rows) > 1 for row in rows}


@dataclass(frozen=True)
class Event:
    """A published change (outbox row): ``topic`` names it, ``payload`` is plain JSON."""

    id: int
    shop_id: int
    topic: str
    payload: dict[str, object]
    created_at: datetime
    published_at: datetime | None = None
