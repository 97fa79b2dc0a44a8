"""Stock counts (库存盘点): open, enter counts, variance report, approve — docs/rules.md §3–4.

Approval lives in ``services/count_approval.py``.

Decisions (see the README section on counts):
- one warehouse per shop for now, named ``main``; a warehouse has at most one open count;
- each counted line is compared with on-hand stock at the moment it was counted;
- entries are all-or-nothing: one bad entry refuses the batch with every row's reason;
- approval (owner or warehouse) adjusts only SKUs that were counted, in one transaction,
  writes ``adjustment`` ledger entries and publishes every change to the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from tierstock.domain.counts import (
    DEFAULT_WAREHOUSE,
    CountClosedError,
    CountEntry,
    CountLine,
    CountOpenError,
    CountRowsError,
    CountStatus,
    Event,
    RowError,
    StockCount,
    VarianceReport,
    duplicate_rows,
    sku_variances,
)
from tierstock.domain.errors import InvalidValueError, NotFoundError
from tierstock.services import audit
from tierstock.services.catalogue import shop_policy
from tierstock.store.uow import UnitOfWork

WAREHOUSES = (DEFAULT_WAREHOUSE,)
MAX_TEXT = {"location": 60, "counter": 100}


@dataclass(frozen=True)
class OpenCount:
    shop_id: int
    warehouse: str = DEFAULT_WAREHOUSE
    sku_ids: tuple[int, ...] | None = None  # None: every SKU of the shop
    note: str = ""
    actor: str = "system"
    sku_codes: tuple[str, ...] = ()  # SKUs chosen by code (added to ``sku_ids``)


def open_count(cmd: OpenCount, uow: UnitOfWork) -> StockCount:
    """Open a count of a warehouse over all SKUs or a chosen set (refused while another
    count of that warehouse is open: two counts would adjust the same stock twice)."""
    if cmd.warehouse not in WAREHOUSES:
        raise InvalidValueError(
            f"a shop has one warehouse for now, {DEFAULT_WAREHOUSE!r}", field="warehouse"
        )
    if cmd.sku_ids is not None and not cmd.sku_ids:
        raise InvalidValueError("choose at least one SKU, or none for all", field="sku_ids")
    with uow:
        shop_policy(uow, cmd.shop_id)
        chosen = None
        by_code = uow.counts.sku_ids_by_code(cmd.shop_id, cmd.sku_codes)
        unknown = [c for c in cmd.sku_codes if c not in by_code]
        if unknown:
            raise NotFoundError(f"no SKU {unknown[0]!r} in this shop", field="sku_codes")
        if cmd.sku_ids is not None or cmd.sku_codes:
            chosen = tuple(sorted({*(cmd.sku_ids or ()), *by_code.values()}))
            known = uow.counts.sku_codes(cmd.shop_id, chosen)
            missing = [i for i in chosen if i not in known]
            if missing:
                raise NotFoundError(f"no SKU {missing[0]} in this shop", field="sku_ids")
        count = uow.counts.open(
            cmd.shop_id, cmd.warehouse, chosen, cmd.note.strip()[:500], cmd.actor, uow.now()
        )
        if count is None:
            raise CountOpenError(
                f"warehouse {cmd.warehouse!r} already has an open count; approve it first",
                field="warehouse",
            )
        audit.record(
            uow,
            cmd.shop_id,
            cmd.actor,
            "count.open",
            "stock_count",
            count.id,
            {"warehouse": count.warehouse, "sku_ids": list(chosen or [])},
        )
        uow.commit()
    return count


def require_count(
    uow: UnitOfWork, shop_id: int, count_id: int, *, lock: bool = False
) -> StockCount:
    count = uow.counts.get(shop_id, count_id, lock=lock)
    if count is None:
        raise NotFoundError(f"no stock count {count_id} in this shop", field="count_id")
    return count


def ensure_open(count: StockCount) -> None:
    if count.status is not CountStatus.OPEN:
        raise CountClosedError(f"stock count {count.id} is {count.status.value}", field="count_id")


def _row_errors(entry: CountEntry, row: int, now: datetime, count: StockCount) -> list[RowError]:
    errors = []
    if entry.counted < 0:
        errors.append(RowError(row, "counted", f"counted quantity {entry.counted} is negative"))
    if entry.unit_cost_fen is not None and entry.unit_cost_fen < 0:
        errors.append(RowError(row, "unit_cost_fen", "cost must not be negative"))
    for name in MAX_TEXT:
        if len(getattr(entry, name)) > MAX_TEXT[name]:
            errors.append(RowError(row, name, f"{name} is longer than {MAX_TEXT[name]}"))
    at = entry.counted_at
    if at is not None and (at.tzinfo is None or not count.opened_at <= at <= now):
        errors.append(
            RowError(
                row,
                "counted_at",
                "counted_at must be between the count's opening and now, with its time zone",
            )
        )
    return errors


def check_entries(
    uow: UnitOfWork, count: StockCount, entries: Sequence[tuple[int, CountEntry]]
) -> tuple[list[CountLine], list[RowError]]:
    """Every entry as a line (with on-hand at its moment) or as the reasons it is
    refused: unknown SKU, SKU outside the count, negative, duplicate (SKU, location)."""
    now = uow.now()
    ids = uow.counts.sku_ids_by_code(count.shop_id, (e.sku_code for _, e in entries))
    dupes = duplicate_rows((row, (e.sku_code, e.location)) for row, e in entries)
    errors: list[RowError] = []
    good: list[tuple[int, CountEntry, datetime]] = []
    for row, entry in entries:
        row_errors = _row_errors(entry, row, now, count)
        sku_id = ids.get(entry.sku_code)
        if sku_id is None:
            row_errors.append(RowError(row, "sku_code", f"unknown SKU {entry.sku_code!r}"))
        elif not count.covers(sku_id):
            row_errors.append(
                RowError(row, "sku_code", f"SKU {entry.sku_code!r} is not in this count")
            )
        if row in dupes:
            where = f" at {entry.location!r}" if entry.location else ""
            others = ", ".join(str(r) for r in dupes[row])
            row_errors.append(
                RowError(
                    row,
                    "sku_code",
                    f"SKU {entry.sku_code!r}{where} appears more than once (rows {others})",
                )
            )
        errors.extend(row_errors)
        if not row_errors:
            good.append((row, entry, entry.counted_at or now))
    on_hand: dict[datetime, dict[int, int]] = {}
    for at in {at for _, _, at in good}:
        on_hand[at] = uow.counts.on_hand_at(
            count.shop_id, (ids[e.sku_code] for _, e, t in good if t == at), at
        )
    lines = [
        CountLine(
            ids[e.sku_code],
            e.sku_code,
            e.location,
            e.counted,
            on_hand[at][ids[e.sku_code]],
            at,
            e.counter,
            e.unit_cost_fen,
        )
        for _, e, at in good
    ]
    return lines, errors


@dataclass(frozen=True)
class RecordCounts:
    """Counted entries for a count. ``rows`` numbers them in reports (a file's own row
    numbers; default 1, 2, …); ``refused`` are rows already refused while reading a file.
    """

    shop_id: int
    count_id: int
    entries: tuple[CountEntry, ...]
    actor: str = "system"
    accept_good_rows: bool = False  # save the good entries even when others are refused
    rows: tuple[int, ...] | None = None
    refused: tuple[RowError, ...] = ()


@dataclass(frozen=True)
class RecordedCounts:
    count_id: int
    saved: int  # lines saved (0 when nothing was committed)
    refused: tuple[RowError, ...]  # every refused row, in row order
    committed: bool


def record_counts(cmd: RecordCounts, uow: UnitOfWork) -> RecordedCounts:
    """Enter counted figures, all or nothing: with any refused row nothing is saved and
    :class:`CountRowsError` lists every row's reason. Entering a (SKU, location) again
    replaces its earlier figure, so a corrected batch can simply be sent again."""
    result = import_counts(cmd, uow)
    if not result.committed:
        first = result.refused[0]
        raise CountRowsError(
            result.refused,
            field=f"entries[{first.row - 1}].{first.field}" if cmd.rows is None else first.field,
        )
    return result


def import_counts(cmd: RecordCounts, uow: UnitOfWork) -> RecordedCounts:
    """Check every entry, then in one transaction save them all — or, with refused rows,
    save nothing (``committed`` False) unless ``accept_good_rows``, when the good rows
    are saved and the refused ones reported. Never a half-saved batch."""
    if not cmd.entries and not cmd.refused:
        raise InvalidValueError("no counted entries given", field="entries")
    rows = cmd.rows or tuple(range(1, len(cmd.entries) + 1))
    with uow:
        count = require_count(uow, cmd.shop_id, cmd.count_id, lock=True)
        ensure_open(count)
        lines, errors = check_entries(uow, count, list(zip(rows, cmd.entries, strict=True)))
        refused = tuple(sorted((*cmd.refused, *errors), key=lambda e: e.row))
        if refused and not cmd.accept_good_rows:
            return RecordedCounts(count.id, 0, refused, committed=False)
        uow.counts.put_lines(cmd.shop_id, count.id, lines, cmd.actor, uow.now())
        uow.commit()
    return RecordedCounts(count.id, len(lines), refused, committed=True)


def current_lines(uow: UnitOfWork, count: StockCount) -> list[CountLine]:
    """The count's lines with on-hand stock *as of each line's counted_at*, computed
    now: a shipment or receipt recorded after the entry but dated before the counting
    is then taken into account (the figure stored at entry may predate it)."""
    lines = uow.counts.lines(count.id)
    moments: dict[datetime, set[int]] = {}
    for ln in lines:
        moments.setdefault(ln.counted_at, set()).add(ln.sku_id)
    on_hand = {at: uow.counts.on_hand_at(count.shop_id, ids, at) for at, ids in moments.items()}
    return [replace(ln, system_on_hand=on_hand[ln.counted_at][ln.sku_id]) for ln in lines]


def variance_report(shop_id: int, count_id: int, uow: UnitOfWork) -> VarianceReport:
    """Counted against system stock per SKU, in quantity and value at cost."""
    with uow:
        count = require_count(uow, shop_id, count_id)
        variances = sku_variances(current_lines(uow, count))
        scope = uow.counts.sku_codes(shop_id, count.sku_ids)
    counted = {v.sku_id for v in variances}
    missing = tuple(code for sku_id, code in scope.items() if sku_id not in counted)
    return VarianceReport(count, variances, missing)


def get_count(shop_id: int, count_id: int, uow: UnitOfWork) -> StockCount:
    with uow:
        return require_count(uow, shop_id, count_id)


def list_counts(
    shop_id: int, uow: UnitOfWork, *, offset: int = 0, limit: int = 50
) -> list[StockCount]:
    with uow:
        return uow.counts.of_shop(shop_id, offset=offset, limit=limit)


def read_events(
    shop_id: int, uow: UnitOfWork, *, after: int = 0, limit: int = 100, topic: str | None = None
) -> list[Event]:
    """Published changes of the shop after event ``after``, oldest first."""
    with uow:
        return uow.counts.events(shop_id, after=after, limit=limit, topic=topic)
