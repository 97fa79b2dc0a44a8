"""Orders in: each store's paid orders become tierstock orders exactly once.

**Reading.** The store's order list is read window by window (orders changed in
[since, until)), page by page with the platform's cursor. The cursor is stored after
each page, and a window is closed (``synced_until`` moves on) only after its last page;
every window starts ``OVERLAP`` before the last one ended (``POLL_OVERLAP`` between the
polls of a running worker) and ends ``LAG`` before now (an order changed at the edge is
read again rather than missed). A crash between a fetch and
its commit therefore loses nothing, and reads some orders twice — which changes nothing:

**Exactly once.** A platform order is placed with the Idempotency-Key
``<platform>:<channel>:<order id>``, so placing it again replays the first answer, and
it is recorded once under (channel, platform order id). Its lines carry the promise the
platform gave the buyer (Kuaishou's ``promiseTimeStampOfDelivery``) as their ship-by.

**When the pool cannot cover it** (two stores sold the last units inside the sync lag)
the buyer has paid all the same: the order is recorded as an **oversell incident** with
what it may cost (the pack's compensation for an unshipped line), shown to the merchant
at once, and the store's figure is pushed again. Never dropped, never negative stock.

**Cancels and refunds** release units to their tier in the same transaction that marks
the platform order cancelled, so twice-delivered cancels release once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from tierstock.domain.channels import Channel, OversellIncident, SyncCursor
from tierstock.domain.compensation import CompensationKind, owed_fen
from tierstock.domain.errors import DomainError, IdempotencyKeyReusedError
from tierstock.domain.orders import LineRequest, LineStatus
from tierstock.domain.sales_forms import Tier
from tierstock.platforms.base import (
    PlatformClient,
    PlatformOrder,
    PlatformOrderStatus,
    RejectedError,
)
from tierstock.policies import load_pack
from tierstock.services.channels.setup import queue_skus
from tierstock.services.placing import PlaceOrder, place_order
from tierstock.services.placing.cancelling import return_line
from tierstock.services.placing.path import Database
from tierstock.store.uow import UnitOfWork

log = logging.getLogger("tierstock.channels")

OVERLAP = timedelta(minutes=2)  # after a (re)start: orders changed at the last edge
POLL_OVERLAP = timedelta(seconds=3)  # between polls of a running worker
LAG = timedelta(0)  # windows end now: the overlap re-reads what a platform lists late
WINDOW = timedelta(hours=1)
FIRST_LOOKBACK = timedelta(days=1)
PAGE_SIZE = 50

Line = tuple[int, LineRequest, int]  # (sku id, request, paid fen)


@dataclass
class SyncReport:
    pages: int = 0
    seen: int = 0
    placed: int = 0
    incidents: int = 0
    cancelled: int = 0
    skipped: int = 0  # unpaid, or no linked SKU
    known: int = 0  # already recorded, nothing changed
    errors: list[str] = field(default_factory=list)


def sync_orders(
    db: Database,
    channel: Channel,
    client: PlatformClient,
    *,
    page_size: int = PAGE_SIZE,
    max_pages: int | None = None,
    lag: timedelta = LAG,
    overlap: timedelta = OVERLAP,
) -> SyncReport:
    """Read the store's orders since the stored cursor and record each once."""
    report = SyncReport()
    cursor = _cursor(db, channel)
    horizon = db.clock() - lag  # this call reads up to here, then returns
    while max_pages is None or report.pages < max_pages:
        since = cursor.synced_until - overlap
        until = cursor.window_end or min(horizon, cursor.synced_until + WINDOW)
        if until <= cursor.synced_until and cursor.window_end is None:
            break
        try:
            page = client.list_orders(since, until, cursor.page_cursor, page_size)
        except RejectedError:
            if cursor.page_cursor is None:
                raise
            cursor = SyncCursor(channel.id, cursor.synced_until, until, None)  # stale cursor
            continue
        report.pages += 1
        for order in page.orders:
            ingest(db, channel, order, report)
        if page.cursor is None:
            cursor = SyncCursor(channel.id, until, None, None)
        else:
            cursor = SyncCursor(channel.id, cursor.synced_until, until, page.cursor)
        _save(db, channel, cursor)
    return report


def _cursor(db: Database, channel: Channel) -> SyncCursor:
    with db.uow(readonly=True) as uow:
        found = uow.channels.cursor(channel.id)
    return found or SyncCursor(channel.id, db.clock() - FIRST_LOOKBACK, None, None)


def _save(db: Database, channel: Channel, cursor: SyncCursor) -> None:
    with db.uow() as uow:
        uow.channels.save_cursor(channel.shop_id, cursor, uow.now())
        uow.commit()


def ingest(db: Database, channel: Channel, order: PlatformOrder, report: SyncReport) -> None:
    """Record one platform order (or its change) exactly once."""
    report.seen += 1
    with db.uow(readonly=True) as uow:
        known = uow.channels.platform_order(channel.id, order.platform_order_id)
    if order.status is PlatformOrderStatus.UNPAID:
        report.skipped += 1
    elif known is None:
        _first_time(db, channel, order, report)
    elif order.status is PlatformOrderStatus.CANCELLED:
        _cancel(db, channel, order, report)
    elif order.status is PlatformOrderStatus.SHIPPED and known[1] == "paid":
        with db.uow() as uow:
            uow.channels.set_platform_order_status(channel.id, order.platform_order_id, "shipped")
            uow.commit()
        report.known += 1
    else:
        report.known += 1


def _lines(db: Database, channel: Channel, order: PlatformOrder) -> list[Line]:
    """The order's lines whose platform SKU is linked to a tierstock SKU; the store may
    sell goods tierstock does not keep, and those lines are not ours."""
    with db.uow(readonly=True) as uow:
        out = []
        for ln in order.lines:
            link = uow.channels.link_by_platform_sku(
                channel.id, ln.platform_item_id, ln.platform_sku_id
            )
            if link is not None:
                out.append((link.sku_id, LineRequest(link.sku_id, ln.quantity), ln.paid_fen))
        return out


def _first_time(db: Database, channel: Channel, order: PlatformOrder, report: SyncReport) -> None:
    if order.status is PlatformOrderStatus.CANCELLED:
        _record(db, channel, order, None, "cancelled")  # cancelled before we saw it paid
        report.skipped += 1
        return
    lines = _lines(db, channel, order)
    if not lines:
        report.skipped += 1
        return
    cmd = PlaceOrder(
        channel.shop_id,
        f"{channel.platform.value}:{channel.id}:{order.platform_order_id}",
        tuple(req for _, req, _ in lines),
        buyer=order.buyer,
        actor=f"channel:{channel.name}",
        ship_by=order.promised_ship_by,
        tiers=_tiers_left_to(db, channel, [sku for sku, _, _ in lines]),
    )
    status = "shipped" if order.status is PlatformOrderStatus.SHIPPED else "paid"
    try:
        placed = place_order(cmd, db.uow())
    except IdempotencyKeyReusedError:
        raise  # the key is ours alone: this is a bug, never an incident
    except DomainError as exc:
        _incident(db, channel, order, lines, status, exc)
        report.incidents += 1
        return
    _record(db, channel, order, placed.order.id, status, _units(lines))
    report.placed += 1


def _tiers_left_to(db: Database, channel: Channel, sku_ids: list[int]) -> tuple[Tier, ...] | None:
    """While another store holds the live lock for one of these SKUs, its spot units are
    that store's (docs/rules.md §10.1): this store's orders take presale only."""
    with db.uow(readonly=True) as uow:
        live = uow.channels.live_skus([channel.shop_id]).get(channel.shop_id)
    if live is None or live[0] == channel.id or not live[1].intersection(sku_ids):
        return None
    return (Tier.PRESALE,)


def _units(lines: list[Line]) -> dict[int, int]:
    units: dict[int, int] = {}
    for sku_id, req, _ in lines:
        units[sku_id] = units.get(sku_id, 0) + req.quantity
    return units


def _record(
    db: Database,
    channel: Channel,
    order: PlatformOrder,
    order_id: int | None,
    status: str,
    units: dict[int, int] | None = None,
) -> None:
    with db.uow() as uow:
        if uow.channels.platform_order(channel.id, order.platform_order_id) is None:
            uow.channels.record_platform_order(
                channel.shop_id,
                channel.id,
                order.platform_order_id,
                order_id,
                None,
                status,
                uow.now(),
            )
            uow.channels.add_ingested(channel.id, units or {})
        uow.commit()


def _incident(
    db: Database,
    channel: Channel,
    order: PlatformOrder,
    lines: list[Line],
    status: str,
    why: DomainError,
) -> None:
    """The pool could not cover the order: keep it, with its exposure, once."""
    with db.uow() as uow:
        if uow.channels.platform_order(channel.id, order.platform_order_id) is not None:
            return  # recorded by a run that raced this one
        pack = load_pack(uow.channels.account(channel.id)[0])
        first = None
        for sku_id, req, paid in lines:
            exposure = owed_fen(CompensationKind.UNSHIPPED, paid, pack.compensation)
            incident_id = uow.channels.add_incident(
                OversellIncident(
                    0,
                    channel.shop_id,
                    channel.id,
                    order.platform_order_id,
                    sku_id,
                    req.quantity,
                    paid,
                    exposure,
                    order.promised_ship_by,
                    uow.now(),
                    None,
                )
            )
            first = first or incident_id
        uow.channels.record_platform_order(
            channel.shop_id, channel.id, order.platform_order_id, None, first, status, uow.now()
        )
        uow.channels.add_ingested(channel.id, _units(lines))  # the store sold them all the same
        queue_skus(uow, [sku_id for sku_id, _, _ in lines], live=True)
        uow.commit()
    log.error(
        "oversell incident: %s order %s could not be covered (%s)",
        channel.name,
        order.platform_order_id,
        why.code,
    )


def _cancel(db: Database, channel: Channel, order: PlatformOrder, report: SyncReport) -> None:
    with db.uow() as uow:
        known = uow.channels.platform_order(channel.id, order.platform_order_id)
        if known is None or not uow.channels.set_platform_order_status(
            channel.id, order.platform_order_id, "cancelled"
        ):
            report.known += 1
            return  # released before
        order_id = known[0]
        if order_id is None:
            released = uow.channels.resolve_incidents(
                channel.id, order.platform_order_id, uow.now()
            )
        else:
            released = _release(uow, channel, order_id)
        uow.channels.add_ingested(channel.id, {s: -n for s, n in released.items()})
        uow.commit()
    report.cancelled += 1


def _release(uow: UnitOfWork, channel: Channel, order_id: int) -> dict[int, int]:
    """Give the order's paid lines back to their tiers; units released per SKU."""
    placed = uow.orders.get(channel.shop_id, order_id)
    assert placed is not None
    released: dict[int, int] = {}
    for line in sorted(placed.lines, key=lambda ln: (ln.sku_id, ln.line_no)):
        if line.status is LineStatus.PAID:
            reason = f"cancelled on {channel.name}"
            actor = f"channel:{channel.name}"
            if return_line(uow, channel.shop_id, order_id, line, actor, reason):
                released[line.sku_id] = released.get(line.sku_id, 0) + line.quantity
    return released
