"""Persistence of channels (store/channel_tables.py explains the tables)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from tierstock.domain.channels import (
    Channel,
    Link,
    OversellIncident,
    Platform,
    QueuedPush,
    QuotaRule,
    RuleKind,
    SyncCursor,
)
from tierstock.store.channel_tables import (
    channel_cursors,
    channel_links,
    channel_live_skus,
    channel_marks,
    channel_orders,
    channel_pushes,
    channel_rules,
    channel_safety,
    channels,
    oversell_incidents,
)
from tierstock.store.sql import upsert_insert
from tierstock.store.tables import stock_ledger


def _channel(row: Any) -> Channel:
    return Channel(
        row.id, row.shop_id, Platform(row.platform), row.name, row.live_since is not None
    )


def _link(row: Any) -> Link:
    return Link(
        row.id,
        row.shop_id,
        row.channel_id,
        row.sku_id,
        row.platform_item_id,
        row.platform_sku_id,
        row.pushed_figure,
        row.seen_figure,
        row.ingested_units,
        row.ingested_at_push,
        row.uncertain_since,
    )


class ChannelRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- stores ---------------------------------------------------------------------------
    def add_channel(
        self,
        shop_id: int,
        platform: Platform,
        name: str,
        pack: str,
        server_url: str | None,
        credentials: str | None,
        at: datetime,
    ) -> Channel:
        new_id = self.conn.execute(
            channels.insert()
            .values(
                shop_id=shop_id,
                platform=platform.value,
                name=name,
                pack=pack,
                server_url=server_url,
                credentials=credentials,
                created_at=at,
            )
            .returning(channels.c.id)
        ).scalar_one()
        return Channel(new_id, shop_id, platform, name, live=False)

    def channels(self, shop_id: int | None = None) -> list[Channel]:
        """A shop's stores (every shop's with ``None``: the sync worker), by id."""
        query = select(channels).order_by(channels.c.id)
        if shop_id is not None:
            query = query.where(channels.c.shop_id == shop_id)
        return [_channel(r) for r in self.conn.execute(query)]

    def channel(self, shop_id: int, channel_id: int) -> Channel | None:
        row = self.conn.execute(
            select(channels).where(channels.c.id == channel_id, channels.c.shop_id == shop_id)
        ).first()
        return None if row is None else _channel(row)

    def name_taken(self, shop_id: int, name: str) -> bool:
        found = self.conn.execute(
            select(channels.c.id).where(channels.c.shop_id == shop_id, channels.c.name == name)
        ).first()
        return found is not None

    def account(self, channel_id: int) -> tuple[str, str | None, str | None]:
        """(pack, gateway URL, encrypted credentials) — only the client factory needs it."""
        row = self.conn.execute(
            select(channels.c.pack, channels.c.server_url, channels.c.credentials).where(
                channels.c.id == channel_id
            )
        ).one()
        return row.pack, row.server_url, row.credentials

    def set_live(
        self, shop_id: int, channel_id: int | None, sku_ids: Sequence[int], at: datetime
    ) -> None:
        """Give the live lock for ``sku_ids`` to ``channel_id`` (``None``: release it);
        one store of a shop holds it at a time."""
        self.conn.execute(
            update(channels).where(channels.c.shop_id == shop_id).values(live_since=None)
        )
        self.conn.execute(channel_live_skus.delete().where(channel_live_skus.c.shop_id == shop_id))
        if channel_id is None:
            return
        self.conn.execute(update(channels).where(channels.c.id == channel_id).values(live_since=at))
        if sku_ids:
            self.conn.execute(
                channel_live_skus.insert(),
                [{"channel_id": channel_id, "sku_id": s, "shop_id": shop_id} for s in sku_ids],
            )

    def live_skus(self, shop_ids: Iterable[int]) -> dict[int, tuple[int, set[int]]]:
        """Per shop holding a live lock: (the live store, the session's SKUs)."""
        live = self.conn.execute(
            select(channels.c.shop_id, channels.c.id).where(
                channels.c.shop_id.in_(list(shop_ids)), channels.c.live_since.is_not(None)
            )
        ).all()
        out: dict[int, tuple[int, set[int]]] = {r.shop_id: (r.id, set()) for r in live}
        if out:
            rows = self.conn.execute(
                select(channel_live_skus.c.shop_id, channel_live_skus.c.sku_id).where(
                    channel_live_skus.c.shop_id.in_(list(out))
                )
            )
            for r in rows:
                out[r.shop_id][1].add(r.sku_id)
        return out

    # --- links, rules, safety stock ---------------------------------------------------------
    def add_link(
        self, shop_id: int, channel_id: int, sku_id: int, item_id: str, platform_sku_id: str
    ) -> Link:
        row = self.conn.execute(
            channel_links.insert()
            .values(
                shop_id=shop_id,
                channel_id=channel_id,
                sku_id=sku_id,
                platform_item_id=item_id,
                platform_sku_id=platform_sku_id,
            )
            .returning(*channel_links.c)
        ).one()
        return _link(row)

    def links(self, shop_id: int, channel_id: int | None = None) -> list[Link]:
        query = select(channel_links).where(channel_links.c.shop_id == shop_id)
        if channel_id is not None:
            query = query.where(channel_links.c.channel_id == channel_id)
        return [_link(r) for r in self.conn.execute(query.order_by(channel_links.c.id))]

    def links_by_id(self, link_ids: Iterable[int]) -> dict[int, Link]:
        rows = self.conn.execute(
            select(channel_links).where(channel_links.c.id.in_(list(link_ids)))
        )
        return {r.id: _link(r) for r in rows}

    def links_of_skus(self, sku_ids: Iterable[int]) -> list[Link]:
        rows = self.conn.execute(
            select(channel_links)
            .where(channel_links.c.sku_id.in_(list(sku_ids)))
            .order_by(channel_links.c.id)
        )
        return [_link(r) for r in rows]

    def link_by_platform_sku(self, channel_id: int, item_id: str, sku_id: str) -> Link | None:
        row = self.conn.execute(
            select(channel_links).where(
                channel_links.c.channel_id == channel_id,
                channel_links.c.platform_item_id == item_id,
                channel_links.c.platform_sku_id == sku_id,
            )
        ).first()
        return None if row is None else _link(row)

    def record_push(
        self, link_id: int, model: int, shown: int, at: datetime, ingested: int
    ) -> None:
        """The store was brought to ``shown``, which is ``model`` less the sales not yet
        recorded when ``ingested`` units of its orders were (see Link.unrecorded_sales)."""
        self.conn.execute(
            update(channel_links)
            .where(channel_links.c.id == link_id)
            .values(
                pushed_figure=model,
                pushed_at=at,
                seen_figure=shown,
                seen_at=at,
                ingested_at_push=ingested,
                uncertain_since=None,
            )
        )

    def mark_uncertain(self, link_id: int, at: datetime) -> None:
        self.conn.execute(
            update(channel_links).where(channel_links.c.id == link_id).values(uncertain_since=at)
        )

    def add_ingested(self, channel_id: int, units_by_sku: dict[int, int]) -> None:
        """Count units of the store's orders as recorded (negative for a cancel)."""
        for sku_id, units in sorted(units_by_sku.items()):
            self.conn.execute(
                update(channel_links)
                .where(channel_links.c.channel_id == channel_id, channel_links.c.sku_id == sku_id)
                .values(ingested_units=channel_links.c.ingested_units + units)
            )

    def record_seen(self, link_id: int, figure: int, at: datetime) -> None:
        self.conn.execute(
            update(channel_links)
            .where(channel_links.c.id == link_id)
            .values(seen_figure=figure, seen_at=at)
        )

    def set_rule(self, shop_id: int, sku_id: int, rule: QuotaRule | None, channel_id: int) -> None:
        """Store (or with ``None`` remove) the rule of one SKU in one store."""
        self.conn.execute(
            channel_rules.delete().where(
                channel_rules.c.sku_id == sku_id, channel_rules.c.channel_id == channel_id
            )
        )
        if rule is not None:
            self.conn.execute(
                channel_rules.insert().values(
                    sku_id=sku_id,
                    channel_id=channel_id,
                    shop_id=shop_id,
                    kind=rule.kind.value,
                    value=rule.value,
                )
            )

    def rules_of_skus(self, sku_ids: Iterable[int]) -> dict[int, dict[int, QuotaRule]]:
        rows = self.conn.execute(
            select(channel_rules).where(channel_rules.c.sku_id.in_(list(sku_ids)))
        )
        out: dict[int, dict[int, QuotaRule]] = {}
        for r in rows:
            out.setdefault(r.sku_id, {})[r.channel_id] = QuotaRule(
                r.channel_id, RuleKind(r.kind), r.value
            )
        return out

    def set_safety(self, shop_id: int, sku_id: int, units: int) -> None:
        self.conn.execute(channel_safety.delete().where(channel_safety.c.sku_id == sku_id))
        if units:
            self.conn.execute(
                channel_safety.insert().values(sku_id=sku_id, shop_id=shop_id, units=units)
            )

    def safety_of_skus(self, sku_ids: Iterable[int]) -> dict[int, int]:
        rows = self.conn.execute(
            select(channel_safety.c.sku_id, channel_safety.c.units).where(
                channel_safety.c.sku_id.in_(list(sku_ids))
            )
        )
        return {r.sku_id: r.units for r in rows}

    # --- the push queue -------------------------------------------------------------------
    def queue(self, links: Sequence[tuple[Link, bool]], due_at: datetime) -> int:
        """Mark links as needing a push (``(link, live)``); a link already queued stays
        queued once — pushes coalesce — but becomes live if now live. Returns how many."""
        if not links:
            return 0
        insert = upsert_insert(self.conn)(channel_pushes)
        rows = [
            {
                "link_id": link.id,
                "shop_id": link.shop_id,
                "channel_id": link.channel_id,
                "live": live,
                "due_at": due_at,
                "attempts": 0,
                "generation": 0,
            }
            for link, live in sorted(links, key=lambda p: p[0].id)  # row locks in id order
        ]
        self.conn.execute(
            insert.on_conflict_do_update(
                index_elements=["link_id"],
                set_={
                    "live": channel_pushes.c.live | insert.excluded.live,
                    "generation": channel_pushes.c.generation + 1,
                },
            ),
            rows,
        )
        return len(rows)

    def due(self, now: datetime, limit: int) -> list[QueuedPush]:
        rows = self.conn.execute(
            select(channel_pushes)
            .where(channel_pushes.c.due_at <= now)
            .order_by(
                channel_pushes.c.live.desc(), channel_pushes.c.due_at, channel_pushes.c.link_id
            )
            .limit(limit)
        )
        return [QueuedPush(r.link_id, r.channel_id, r.live, r.attempts, r.generation) for r in rows]

    def done(self, pushed: Iterable[QueuedPush]) -> None:
        """Unqueue pushed links, unless a change queued one again since it was read."""
        for p in pushed:
            self.conn.execute(
                channel_pushes.delete().where(
                    channel_pushes.c.link_id == p.link_id,
                    channel_pushes.c.generation == p.generation,
                )
            )

    def retry_later(self, link_id: int, due_at: datetime, error: str) -> None:
        self.conn.execute(
            update(channel_pushes)
            .where(channel_pushes.c.link_id == link_id)
            .values(due_at=due_at, attempts=channel_pushes.c.attempts + 1, last_error=error[:300])
        )

    def queue_depth(self, shop_id: int) -> dict[int, int]:
        rows = self.conn.execute(
            select(channel_pushes.c.channel_id, func.count())
            .where(channel_pushes.c.shop_id == shop_id)
            .group_by(channel_pushes.c.channel_id)
        )
        return {r[0]: r[1] for r in rows}

    # --- the ledger as the outbox of stock changes ------------------------------------------
    def mark(self, name: str) -> int:
        value = self.conn.execute(
            select(channel_marks.c.value).where(channel_marks.c.name == name)
        ).scalar_one_or_none()
        return int(value or 0)

    def set_mark(self, name: str, value: int) -> None:
        insert = upsert_insert(self.conn)(channel_marks)
        self.conn.execute(
            insert.values(name=name, value=value).on_conflict_do_update(
                index_elements=["name"], set_={"value": value}
            )
        )

    def skus_changed_after(self, ledger_id: int, limit: int) -> tuple[list[int], int]:
        """SKUs with ledger entries after ``ledger_id`` (at most ``limit`` entries read),
        and the last entry id read."""
        rows = self.conn.execute(
            select(stock_ledger.c.id, stock_ledger.c.sku_id)
            .where(stock_ledger.c.id > ledger_id)
            .order_by(stock_ledger.c.id)
            .limit(limit)
        ).all()
        if not rows:
            return [], ledger_id
        return sorted({r.sku_id for r in rows}), rows[-1].id

    # --- order sync -------------------------------------------------------------------------
    def cursor(self, channel_id: int) -> SyncCursor | None:
        row = self.conn.execute(
            select(channel_cursors).where(channel_cursors.c.channel_id == channel_id)
        ).first()
        if row is None:
            return None
        return SyncCursor(row.channel_id, row.synced_until, row.window_end, row.page_cursor)

    def save_cursor(self, shop_id: int, cursor: SyncCursor, at: datetime) -> None:
        values = {
            "synced_until": cursor.synced_until,
            "window_end": cursor.window_end,
            "page_cursor": cursor.page_cursor,
            "updated_at": at,
        }
        insert = upsert_insert(self.conn)(channel_cursors)
        self.conn.execute(
            insert.values(
                channel_id=cursor.channel_id, shop_id=shop_id, **values
            ).on_conflict_do_update(index_elements=["channel_id"], set_=values)
        )

    def platform_order(
        self, channel_id: int, platform_order_id: str
    ) -> tuple[int | None, str] | None:
        """(tierstock order id or None for an incident, status) of a recorded order."""
        row = self.conn.execute(
            select(channel_orders.c.order_id, channel_orders.c.status).where(
                channel_orders.c.channel_id == channel_id,
                channel_orders.c.platform_order_id == platform_order_id,
            )
        ).first()
        return None if row is None else (row.order_id, row.status)

    def record_platform_order(
        self,
        shop_id: int,
        channel_id: int,
        platform_order_id: str,
        order_id: int | None,
        incident_id: int | None,
        status: str,
        at: datetime,
    ) -> None:
        self.conn.execute(
            channel_orders.insert().values(
                shop_id=shop_id,
                channel_id=channel_id,
                platform_order_id=platform_order_id,
                order_id=order_id,
                incident_id=incident_id,
                status=status,
                recorded_at=at,
            )
        )

    def set_platform_order_status(
        self, channel_id: int, platform_order_id: str, status: str
    ) -> bool:
        """Move a recorded order to ``status``; False if it already was (applied once)."""
        result = self.conn.execute(
            update(channel_orders)
            .where(
                channel_orders.c.channel_id == channel_id,
                channel_orders.c.platform_order_id == platform_order_id,
                channel_orders.c.status != status,
            )
            .values(status=status)
        )
        return result.rowcount == 1

    def last_order_recorded_at(self, channel_id: int) -> datetime | None:
        value: datetime | None = self.conn.execute(
            select(func.max(channel_orders.c.recorded_at)).where(
                channel_orders.c.channel_id == channel_id
            )
        ).scalar_one()
        return value

    def platform_orders_count(self, channel_id: int) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(channel_orders.c.channel_id == channel_id)
            ).scalar_one()
        )

    # --- oversell incidents ---------------------------------------------------------------
    def add_incident(self, incident: OversellIncident) -> int:
        return int(
            self.conn.execute(
                oversell_incidents.insert()
                .values(
                    shop_id=incident.shop_id,
                    channel_id=incident.channel_id,
                    platform_order_id=incident.platform_order_id,
                    sku_id=incident.sku_id,
                    quantity=incident.quantity,
                    paid_fen=incident.paid_fen,
                    exposure_fen=incident.exposure_fen,
                    promised_ship_by=incident.promised_ship_by,
                    created_at=incident.created_at,
                )
                .returning(oversell_incidents.c.id)
            ).scalar_one()
        )

    def resolve_incidents(
        self, channel_id: int, platform_order_id: str, at: datetime
    ) -> dict[int, int]:
        """The platform order of these incidents was cancelled: nothing is owed any more.
        Returns the units per SKU the resolved incidents held."""
        rows = self.conn.execute(
            update(oversell_incidents)
            .where(
                oversell_incidents.c.channel_id == channel_id,
                oversell_incidents.c.platform_order_id == platform_order_id,
                oversell_incidents.c.resolved_at.is_(None),
            )
            .values(resolved_at=at)
            .returning(oversell_incidents.c.sku_id, oversell_incidents.c.quantity)
        ).all()
        units: dict[int, int] = {}
        for sku_id, quantity in rows:
            units[sku_id] = units.get(sku_id, 0) + quantity
        return units

    def incidents(self, shop_id: int, *, open_only: bool = False) -> list[OversellIncident]:
        query = select(oversell_incidents).where(oversell_incidents.c.shop_id == shop_id)
        if open_only:
            query = query.where(oversell_incidents.c.resolved_at.is_(None))
        rows = self.conn.execute(query.order_by(oversell_incidents.c.id.desc()))
        return [
            OversellIncident(
                r.id,
                r.shop_id,
                r.channel_id,
                r.platform_order_id,
                r.sku_id,
                r.quantity,
                r.paid_fen,
                r.exposure_fen,
                r.promised_ship_by,
                r.created_at,
                r.resolved_at,
            )
            for r in rows
        ]
