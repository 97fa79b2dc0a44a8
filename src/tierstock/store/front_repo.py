"""Persistence of the Redis reservation front (services/placing/redis_front/): leases, order ids
handed out ahead, and the fold of reservations into orders, lines and ledger rows.

PostgreSQL only (the front refuses SQLite at start-up): order ids come from the
``orders`` sequence in blocks, and a re-delivered reservation is skipped with
``ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from tierstock.domain.leases import FoldedSale, Lease
from tierstock.domain.sales_forms import Tier
from tierstock.store.front_tables import front_leases, front_releases
from tierstock.store.sql import postgresql as pg_sql
from tierstock.store.sql.driver import raw_execute
from tierstock.store.tables import orders

_lease = front_leases.c


# The fold's orders go in through one ``unnest`` statement (pg_sql.FOLD_ORDERS); its
# lines and ledger rows through the hot path's own bulk statements (order_repo,
# stock_repo).
ADD_SOLD = (
    update(front_leases)
    .where(_lease.id == bindparam("b_id"))
    .values(sold=_lease.sold + bindparam("b_units"))
)


class FrontRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _bulk(self, sql: str, params: dict[str, list[Any]]) -> list[Any]:
        """Run an ``unnest`` statement on the driver (``store/sql/driver.py``: same
        transaction, SQLAlchemy's errors): its ``%(name)b`` arrays go to PostgreSQL in
        binary, without text quoting — in text format psycopg escapes every string of
        every array with a regular expression, most of the fold's Python time."""
        cursor = raw_execute(self.conn, sql, params)
        return cursor.fetchall() if cursor.description else []

    def next_order_ids(self, n: int) -> list[int]:
        """Reserve ``n`` order ids from the ``orders`` sequence (never handed out twice;
        an id the front never uses is a harmless gap)."""
        return [int(r[0]) for r in raw_execute(self.conn, pg_sql.NEXT_ORDER_IDS, (n,))]

    def add_lease(
        self, shop_id: int, sku_id: int, tier: Tier, first_unit: int, units: int, at: datetime
    ) -> int:
        lease_id: int = self.conn.execute(
            front_leases.insert().returning(_lease.id),
            {
                "shop_id": shop_id,
                "sku_id": sku_id,
                "tier": tier,
                "first_unit": first_unit,
                "units": units,
                "sold": 0,
                "returned": 0,
                "leased_at": at,
            },
        ).scalar_one()
        return lease_id

    def leases(self, ids: Iterable[int]) -> dict[int, Lease]:
        rows = self.conn.execute(select(front_leases).where(_lease.id.in_(set(ids))))
        return {r.id: _lease_of(r) for r in rows}

    def open_leases(self, shop_id: int | None = None) -> list[Lease]:
        query = (
            select(front_leases)
            .where(_lease.sold + _lease.returned < _lease.units)
            .order_by(_lease.id)
        )
        if shop_id is not None:
            query = query.where(_lease.shop_id == shop_id)
        return [_lease_of(r) for r in self.conn.execute(query)]

    def outstanding_by_tier(self, shop_id: int | None = None) -> dict[tuple[int, Tier], int]:
        """Units each tier has leased to the front and not yet folded or given back."""
        query = select(
            _lease.sku_id,
            _lease.tier,
            func.sum(_lease.units - _lease.sold - _lease.returned).label("n"),
        ).group_by(_lease.sku_id, _lease.tier)
        if shop_id is not None:
            query = query.where(_lease.shop_id == shop_id)
        return {(r.sku_id, Tier(r.tier)): int(r.n) for r in self.conn.execute(query)}

    def insert_sales(self, sales: Sequence[FoldedSale]) -> set[int]:
        """Insert the orders of these reservations; the ids actually inserted come back.

        An id already present is a reservation folded before (re-delivered after a crash
        between COMMIT and the stream's acknowledgement); a (shop, key) already present
        is a key the front did not know (see services/placing/redis_front/fold.py)."""
        if not sales:
            return set()
        rows = self._bulk(
            pg_sql.FOLD_ORDERS,
            {
                "id": [s.order_id for s in sales],
                "shop": [s.shop_id for s in sales],
                "key": [s.idempotency_key for s in sales],
                "hash": [s.request_hash for s in sales],
                "buyer": [s.buyer for s in sales],
                "paid": [s.paid_at for s in sales],
            },
        )
        return {int(r[0]) for r in rows}

    def existing_orders(self, ids: Iterable[int]) -> set[int]:
        return {
            int(r[0])
            for r in self.conn.execute(select(orders.c.id).where(orders.c.id.in_(set(ids))))
        }

    def add_sold(self, per_lease: dict[int, int]) -> None:
        if per_lease:
            self.conn.execute(
                ADD_SOLD, [{"b_id": k, "b_units": v} for k, v in sorted(per_lease.items())]
            )

    def claim_release(self, key: str, at: datetime) -> bool:
        """Record that the give-back named ``key`` is applied now; ``False`` if it was
        applied before (a re-delivered stream entry), which must then change nothing."""
        claimed = self.conn.execute(
            pg_insert(front_releases).on_conflict_do_nothing().returning(front_releases.c.key),
            {"key": key, "at": at},
        ).first()
        return claimed is not None

    def give_back(self, lease_id: int, units: int) -> Lease:
        """Count ``units`` of the lease as returned to its tier."""
        row = self.conn.execute(
            update(front_leases)
            .where(_lease.id == lease_id, _lease.sold + _lease.returned + units <= _lease.units)
            .values(returned=_lease.returned + units)
            .returning(*front_leases.c)
        ).first()
        if row is None:
            raise RuntimeError(f"lease {lease_id} holds fewer than {units} outstanding units")
        return _lease_of(row)


def _lease_of(r: Any) -> Lease:
    return Lease(r.id, r.shop_id, r.sku_id, Tier(r.tier), r.first_unit, r.units, r.sold, r.returned)
