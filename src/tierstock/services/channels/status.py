"""What the merchant sees of each store: last sync, push queue, drift, incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tierstock.domain.channels import Channel, OversellIncident
from tierstock.services.channels.quotas import figures
from tierstock.store.uow import UnitOfWork


@dataclass(frozen=True)
class ChannelStatus:
    channel: Channel
    links: int
    synced_until: datetime | None  # every order changed before this is recorded
    platform_orders: int
    queued: int  # links waiting for a push
    drifted: int  # links whose store last showed another figure than its quota
    open_incidents: int
    exposure_fen: int  # what the open incidents may cost


def channel_status(shop_id: int, uow: UnitOfWork) -> list[ChannelStatus]:
    with uow:
        stores = uow.channels.channels(shop_id)
        links = uow.channels.links(shop_id)
        wanted = figures(uow, links)
        depth = uow.channels.queue_depth(shop_id)
        open_incidents = uow.channels.incidents(shop_id, open_only=True)
        out = []
        for c in stores:
            mine = [ln for ln in links if ln.channel_id == c.id]
            cursor = uow.channels.cursor(c.id)
            incidents = [i for i in open_incidents if i.channel_id == c.id]
            out.append(
                ChannelStatus(
                    c,
                    len(mine),
                    cursor.synced_until if cursor else None,
                    uow.channels.platform_orders_count(c.id),
                    depth.get(c.id, 0),
                    sum(
                        1
                        for ln in mine
                        if ln.seen_figure is not None and ln.seen_figure != wanted[ln.id]
                    ),
                    len(incidents),
                    sum(i.exposure_fen for i in incidents),
                )
            )
        return out


def incidents_of(
    shop_id: int, uow: UnitOfWork, *, open_only: bool = False
) -> list[OversellIncident]:
    with uow:
        return uow.channels.incidents(shop_id, open_only=open_only)
