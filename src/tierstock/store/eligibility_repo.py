"""Store scores (店铺分) and the order figures tiered eligibility is judged on.

See docs/rules.md §6.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, case, func, select

from tierstock.domain.eligibility import PullingProduct, ScorePoint, ShareCount, TieredSku
from tierstock.domain.orders import LineStatus
from tierstock.domain.sales_forms import SalesForm, Tier
from tierstock.store.sql import upsert_insert
from tierstock.store.tables import order_lines, orders, products, skus, store_scores


class EligibilityRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put_score(self, shop_id: int, point: ScorePoint, actor: str, at: datetime) -> None:
        """Insert or replace the score of that day (a corrected import wins)."""
        stmt = upsert_insert(self.conn)(store_scores).values(
            shop_id=shop_id,
            scored_on=point.scored_on,
            score_centi=point.score_centi,
            actor=actor,
            recorded_at=at,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["shop_id", "scored_on"],
            set_={
                "score_centi": stmt.excluded.score_centi,
                "actor": stmt.excluded.actor,
                "recorded_at": stmt.excluded.recorded_at,
            },
        )
        self.conn.execute(stmt)

    def scores(self, shop_id: int, upto: date, limit: int) -> list[ScorePoint]:
        """The latest ``limit`` scores on or before ``upto``, oldest first."""
        rows = self.conn.execute(
            select(store_scores.c.scored_on, store_scores.c.score_centi)
            .where(store_scores.c.shop_id == shop_id, store_scores.c.scored_on <= upto)
            .order_by(store_scores.c.scored_on.desc())
            .limit(limit)
        ).all()
        return [ScorePoint(r.scored_on, r.score_centi) for r in reversed(rows)]

    def share(self, shop_id: int, since: datetime, until: datetime) -> ShareCount:
        """Spot lines and paid lines among lines paid in ``[since, until]`` and still
        paid (assumption: a cancelled line is not a paid order)."""
        spot, paid = self.conn.execute(
            select(
                func.sum(case((order_lines.c.tier == Tier.SPOT.value, 1), else_=0)), func.count()
            )
            .select_from(order_lines.join(orders, orders.c.id == order_lines.c.order_id))
            .where(
                order_lines.c.shop_id == shop_id,
                order_lines.c.status == LineStatus.PAID.value,
                orders.c.paid_at >= since,
                orders.c.paid_at <= until,
            )
        ).one()
        return ShareCount(int(spot or 0), int(paid or 0))

    def pulling_products(
        self, shop_id: int, since: datetime, until: datetime, limit: int
    ) -> list[PullingProduct]:
        presale = func.sum(case((order_lines.c.tier == Tier.PRESALE.value, 1), else_=0))
        rows = self.conn.execute(
            select(
                products.c.id, products.c.name, presale.label("presale"), func.count().label("paid")
            )
            .select_from(
                order_lines.join(orders, orders.c.id == order_lines.c.order_id)
                .join(skus, skus.c.id == order_lines.c.sku_id)
                .join(products, products.c.id == skus.c.product_id)
            )
            .where(
                order_lines.c.shop_id == shop_id,
                order_lines.c.status == LineStatus.PAID.value,
                orders.c.paid_at >= since,
                orders.c.paid_at <= until,
            )
            .group_by(products.c.id, products.c.name)
            .having(presale > 0)
            .order_by(presale.desc(), products.c.id)
            .limit(limit)
        )
        return [PullingProduct(r.id, r.name, int(r.presale), int(r.paid)) for r in rows]

    def tiered_skus(self, shop_id: int) -> list[TieredSku]:
        rows = self.conn.execute(
            select(skus.c.id, skus.c.code, products.c.id.label("pid"), products.c.name)
            .join(products, products.c.id == skus.c.product_id)
            .where(skus.c.shop_id == shop_id, skus.c.sales_form == SalesForm.TIERED.value)
            .order_by(skus.c.id)
        )
        return [TieredSku(r.id, r.code, r.pid, r.name) for r in rows]
