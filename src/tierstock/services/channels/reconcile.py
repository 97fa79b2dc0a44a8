"""Drift repair: read what each store shows, compare it with the quota, set it right.

Pushes keep the stores in step; this job catches what pushes cannot see — a figure
changed by hand in a platform's back office, a delta the platform applied twice, a
push lost with the worker. It reports every change it made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tierstock.domain.channels import Channel, Link
from tierstock.platforms.base import PlatformError, SkuRef
from tierstock.services.channels.clients import Clients
from tierstock.services.channels.quotas import figures
from tierstock.services.channels.relay import bring_to_quota
from tierstock.services.placing.path import Database
from tierstock.store.uow import UnitOfWork

QUIET = timedelta(seconds=30)  # no order recorded for this long: nothing is pending
FRESH = timedelta(seconds=10)  # … provided the order list was read this recently


@dataclass(frozen=True)
class Drift:
    channel: str
    link_id: int
    sku_id: int
    shown: int | None  # what the store showed (None: it could not be read)
    quota: int  # what the store should show (its quota, less its sales not yet recorded)
    repaired: bool
    error: str = ""


def reconcile(db: Database, clients: Clients, shop_id: int, *, repair: bool = True) -> list[Drift]:
    """Check every link of the shop's stores; with ``repair``, set each drifted figure."""
    with db.uow(readonly=True) as uow:
        stores = [c for c in uow.channels.channels(shop_id) if c.platform.is_store_platform]
        links = uow.channels.links(shop_id)
        wanted = figures(uow, links)
    by_id = {c.id: c for c in stores}
    drifts = []
    for link in links:
        channel = by_id[link.channel_id]
        drift = _check(db, clients, channel, link, wanted[link.id], repair)
        if drift is not None:
            drifts.append(drift)
    return drifts


def _check(
    db: Database, clients: Clients, channel: Channel, link: Link, quota: int, repair: bool
) -> Drift | None:
    sku = SkuRef(link.platform_item_id, link.platform_sku_id)
    link_id, sku_id = link.id, link.sku_id
    try:
        client = clients.get(channel)
        shown = client.read_stock(sku)
    except PlatformError as exc:
        return Drift(channel.name, link_id, sku_id, None, quota, False, str(exc))
    with db.uow() as uow:
        uow.channels.record_seen(link_id, shown, uow.now())
        quiet = _quiet(uow, channel.id, uow.now())
        uow.commit()
    target = max(0, quota - (0 if quiet else link.unrecorded_sales(shown)))
    if shown == target:
        return None
    if not repair:
        return Drift(channel.name, link_id, sku_id, shown, target, False)
    try:
        bring_to_quota(db, client, link, quota, all_recorded=quiet)
    except PlatformError as exc:
        return Drift(channel.name, link_id, sku_id, shown, target, False, str(exc))
    return Drift(channel.name, link_id, sku_id, shown, target, True)


def _quiet(uow: UnitOfWork, channel_id: int, now: datetime) -> bool:
    """Every order of the store is recorded: its list was read up to a moment ago and no
    order arrived for ``QUIET`` before that — nothing the store sold can be pending."""
    cursor = uow.channels.cursor(channel_id)
    if cursor is None or cursor.window_end is not None or now - cursor.synced_until > FRESH:
        return False
    last = uow.channels.last_order_recorded_at(channel_id)
    return last is None or now - last > QUIET


def reconcile_shop(
    db: Database, key: bytes | None, shop_id: int, *, repair: bool = True
) -> list[Drift]:
    """:func:`reconcile` with clients of its own, closed afterwards: one check asked for
    by a person (``tierstock channels reconcile``, ``POST /channels/reconcile``)."""
    clients = Clients(db, key)
    try:
        return reconcile(db, clients, shop_id, repair=repair)
    finally:
        clients.close()
