"""What the merchant sees of each store: last sync, push queue, drift, incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tierstock.domain.channels import Channel, Link, OversellIncident, QuotaRule
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


@dataclass(frozen=True)
class ChannelSetup:
    """How the shop's pool is split: links with the figure each store should show,
    rules, safety stock, the live lock, and which stores have credentials stored (never
    what they are)."""

    links: list[Link]
    wanted: dict[int, int]  # link id -> the figure its store should show
    rules: dict[int, dict[int, QuotaRule]]  # sku id -> channel id -> rule
    safety: dict[int, int]  # sku id -> units
    live_store: int | None
    live_skus: set[int] = field(default_factory=set)
    sealed: dict[int, bool] = field(default_factory=dict)  # channel id -> credentials stored


def channel_setup(shop_id: int, uow: UnitOfWork) -> ChannelSetup:
    with uow:
        stores = uow.channels.channels(shop_id)
        links = uow.channels.links(shop_id)
        sku_ids = {ln.sku_id for ln in links}
        live = uow.channels.live_skus([shop_id]).get(shop_id)
        return ChannelSetup(
            links,
            figures(uow, links),
            uow.channels.rules_of_skus(sku_ids),
            uow.channels.safety_of_skus(sku_ids),
            live[0] if live else None,
            live[1] if live else set(),
            {c.id: uow.channels.account(c.id)[2] is not None for c in stores},
        )
