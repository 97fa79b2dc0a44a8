"""Stock tiers and the ledger. The hot path lives here: :meth:`StockRepository.take`.

Every stock change is one conditional UPDATE whose WHERE clause carries the rule, so
concurrent buyers never read-then-write in Python; the row's CHECK constraint refuses
an oversell even if a caller were wrong.

The hot-path statements (take, lock_tiers, record; orders in order_repo) run on the
raw driver connection (see ``store/sql/driver.py`` for why); their SQLite and PostgreSQL
text sits side by side in ``store/sql/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from tierstock.domain.allocation import TierStock
from tierstock.domain.evidence import (
    OPENING_STOCK_REASON,
    EvidenceBasis,
    StockEvidence,
    UnevidencedRaise,
)
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.orders import LineStatus
from tierstock.domain.sales_forms import Tier
from tierstock.store.rows import insert_new
from tierstock.store.sql import POSTGRESQL, dialect_sql
from tierstock.store.sql.columns import LEDGER_COLUMNS
from tierstock.store.sql.driver import (
    json_rows,
    placeholders,
    raw_execute,
    raw_executemany,
    utc_text,
)
from tierstock.store.tables import (
    order_lines,
    products,
    skus,
    stock_evidence,
    stock_ledger,
    stock_tiers,
)

_tier = stock_tiers.c


def _where_tier(sku_id: int, tier: Tier) -> Any:
    return (_tier.sku_id == sku_id) & (_tier.tier == tier.value)


# Hot-path statements are built once: building a statement costs more than running it.
_THIS_TIER = (_tier.sku_id == bindparam("b_sku_id")) & (_tier.tier == bindparam("b_tier"))
GIVE_BACK = (
    update(stock_tiers)
    .where(_THIS_TIER, _tier.sold >= bindparam("qty"))
    .values(sold=_tier.sold - bindparam("qty"))
)
_TIERS = {t.value: t for t in Tier}


class StockRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # the hot path ---------------------------------------------------------------------
    def take(self, sku_id: int, tier: Tier, quantity: int) -> int | None:
        """Promise ``quantity`` units of the tier if it holds them all.

        Returns the tier's ``sold`` after the change, or ``None`` if the tier is short.
        The row lock lasts from this UPDATE to the end of the (short) transaction.
        """
        row = raw_execute(
            self.conn, dialect_sql(self.conn).TAKE, (quantity, sku_id, tier, quantity)
        ).fetchone()
        return None if row is None else int(row[0])

    def lock_tiers(self, sku_ids: Iterable[int]) -> dict[int, dict[Tier, TierStock]]:
        """Read the tiers of several SKUs under row locks, in id order (so two batches
        never deadlock). Used by batched allocation, which then writes one conditional
        UPDATE per tier for the whole batch. (SQLite: the write lock of ``BEGIN
        IMMEDIATE`` already excludes every other writer.)"""
        ids = sorted(set(sku_ids))
        if not ids:
            return {}
        sql = dialect_sql(self.conn).LOCK_TIERS
        if self.conn.dialect.name == POSTGRESQL:
            rows = raw_execute(self.conn, sql, (ids,))
        else:
            rows = raw_execute(self.conn, sql.format(placeholders(len(ids))), ids)
        found: dict[int, dict[Tier, TierStock]] = {}
        for sku_id, name, quantity, sold in rows:
            tier = _TIERS[name]
            found.setdefault(sku_id, {})[tier] = TierStock(tier, quantity, sold)
        return found

    def give_back(self, sku_id: int, tier: Tier, quantity: int) -> None:
        """Return cancelled units to the tier they came from."""
        result = self.conn.execute(GIVE_BACK, {"b_sku_id": sku_id, "b_tier": tier, "qty": quantity})
        if result.rowcount != 1:
            raise RuntimeError(f"tier {tier} of SKU {sku_id} holds fewer sold units than a line")

    # receipts and set stock -------------------------------------------------------------
    def add_quantity(self, sku_id: int, tier: Tier, delta: int) -> TierStock:
        row = self.conn.execute(
            update(stock_tiers)
            .where(_where_tier(sku_id, tier))
            .values(quantity=_tier.quantity + delta)
            .returning(_tier.quantity, _tier.sold)
        ).one()
        return TierStock(tier, row.quantity, row.sold)

    def lock_tier(self, sku_id: int, tier: Tier) -> TierStock:
        """Read one tier under a row lock (set stock needs the old figure for its
        ledger delta; SQLite's BEGIN IMMEDIATE already serialises writers)."""
        row = self.conn.execute(
            select(_tier.quantity, _tier.sold).where(_where_tier(sku_id, tier)).with_for_update()
        ).one()
        return TierStock(tier, row.quantity, row.sold)

    def set_quantity(self, sku_id: int, tier: Tier, quantity: int) -> None:
        self.conn.execute(
            update(stock_tiers).where(_where_tier(sku_id, tier)).values(quantity=quantity)
        )

    # reads -----------------------------------------------------------------------------
    def tiers(self, sku_ids: Iterable[int]) -> dict[int, dict[Tier, TierStock]]:
        rows = self.conn.execute(
            select(_tier.sku_id, _tier.tier, _tier.quantity, _tier.sold).where(
                _tier.sku_id.in_(set(sku_ids))
            )
        )
        found: dict[int, dict[Tier, TierStock]] = {}
        for r in rows:
            tier = Tier(r.tier)
            found.setdefault(r.sku_id, {})[tier] = TierStock(tier, r.quantity, r.sold)
        return found

    # ledger ------------------------------------------------------------------------------
    def record(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ledger entries, one statement for all of them (raw driver: hot path)."""
        if not entries:
            return
        rows = [
            (
                e.shop_id,
                e.sku_id,
                e.tier,
                e.kind,
                e.quantity_delta,
                e.sold_delta,
                e.actor,
                e.reason,
                utc_text(e.created_at),
                e.order_id,
                e.line_no,
            )
            for e in entries
        ]
        sql = dialect_sql(self.conn).RECORD
        if self.conn.dialect.name == POSTGRESQL:
            raw_execute(self.conn, sql, (json_rows(LEDGER_COLUMNS, rows),))
        else:
            raw_executemany(self.conn, sql, rows)

    def ledger(self, shop_id: int, sku_id: int, *, offset: int, limit: int) -> list[LedgerEntry]:
        rows = self.conn.execute(
            select(stock_ledger)
            .where(stock_ledger.c.shop_id == shop_id, stock_ledger.c.sku_id == sku_id)
            .order_by(stock_ledger.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [
            LedgerEntry(
                shop_id=r.shop_id,
                sku_id=r.sku_id,
                tier=Tier(r.tier),
                kind=LedgerKind(r.kind),
                quantity_delta=r.quantity_delta,
                sold_delta=r.sold_delta,
                actor=r.actor,
                reason=r.reason,
                created_at=r.created_at,
                order_id=r.order_id,
                line_no=r.line_no,
                id=r.id,
            )
            for r in rows
        ]

    # evidence (docs/rules.md §3.5) --------------------------------------------------------
    def record_one(self, entry: LedgerEntry) -> int:
        """Append one ledger entry and return its id, for the evidence row that names it
        (receipts and set stock; the hot path appends with :meth:`record`)."""
        new_id = self.conn.execute(
            insert(stock_ledger)
            .values(
                shop_id=entry.shop_id,
                sku_id=entry.sku_id,
                tier=entry.tier.value,
                kind=entry.kind.value,
                quantity_delta=entry.quantity_delta,
                sold_delta=entry.sold_delta,
                actor=entry.actor,
                reason=entry.reason,
                created_at=entry.created_at,
                order_id=entry.order_id,
                line_no=entry.line_no,
            )
            .returning(stock_ledger.c.id)
        ).scalar_one()
        return int(new_id)

    def add_evidence(
        self, shop_id: int, sku_id: int, evidence: StockEvidence, at: datetime
    ) -> bool:
        """Record what a ledger entry rests on; ``False`` when the delivery note was
        already received for this SKU and supplier (only a savepoint is rolled back)."""
        stmt = (
            insert(stock_evidence)
            .values(
                shop_id=shop_id,
                sku_id=sku_id,
                ledger_id=evidence.ledger_id,
                basis=evidence.basis.value,
                supplier=evidence.supplier,
                delivery_note=evidence.delivery_note,
                during_live=evidence.during_live,
                created_at=at,
            )
            .returning(stock_evidence.c.id)
        )
        return insert_new(self.conn, stmt) is not None

    def evidence_of(self, ledger_ids: Iterable[int]) -> dict[int, StockEvidence]:
        """The recorded evidence of these ledger entries, by ledger id."""
        ids = sorted(set(ledger_ids))
        if not ids:
            return {}
        ev = stock_evidence.c
        rows = self.conn.execute(
            select(ev.ledger_id, ev.basis, ev.supplier, ev.delivery_note, ev.during_live).where(
                ev.ledger_id.in_(ids)
            )
        )
        return {
            r.ledger_id: StockEvidence(
                r.ledger_id, EvidenceBasis(r.basis), r.supplier, r.delivery_note, r.during_live
            )
            for r in rows
        }

    def unevidenced_raises(self, shop_id: int) -> list[tuple[str, str, UnevidencedRaise]]:
        """(SKU code, product name, raise) for every spot receipt or set stock of the shop
        that made units sellable without a receipt's evidence: owners' overrides, opening
        stock and entries written before evidence was recorded (docs/rules.md §3.5)."""
        led, ev = stock_ledger.c, stock_evidence.c
        opening = and_(
            led.kind == LedgerKind.RECEIPT.value,
            led.reason == OPENING_STOCK_REASON,
            led.created_at == skus.c.created_at,
        )
        rows = self.conn.execute(
            select(
                led.id,
                led.sku_id,
                led.kind,
                led.quantity_delta,
                led.actor,
                led.reason,
                led.created_at,
                skus.c.code,
                products.c.name,
                ev.basis,
                ev.during_live,
                opening.label("opening"),
            )
            .join(skus, skus.c.id == led.sku_id)
            .join(products, products.c.id == skus.c.product_id)
            .outerjoin(stock_evidence, ev.ledger_id == led.id)
            .where(
                led.shop_id == shop_id,
                led.tier == Tier.SPOT.value,
                led.quantity_delta > 0,
                led.kind.in_([LedgerKind.RECEIPT.value, LedgerKind.SET_STOCK.value]),
                or_(ev.id.is_(None), ev.basis == EvidenceBasis.OVERRIDE.value),
            )
            .order_by(led.id)
        )
        return [
            (
                r.code,
                r.name,
                UnevidencedRaise(
                    ledger_id=r.id,
                    sku_id=r.sku_id,
                    kind=LedgerKind(r.kind),
                    units=r.quantity_delta,
                    actor=r.actor,
                    reason=r.reason,
                    at=r.created_at,
                    basis=EvidenceBasis.NONE if r.basis is None else EvidenceBasis(r.basis),
                    opening=bool(r.opening),
                    during_live=bool(r.during_live),
                ),
            )
            for r in rows
        ]

    def audit_rows(self, shop_id: int | None) -> list[Any]:
        """Per tier: stored figures, ledger sums and units held by paid lines (the sums
        are restricted to the shop first, so checking one shop reads only its rows)."""

        def scoped(query: Any, table: Any) -> Any:
            return query if shop_id is None else query.where(table.c.shop_id == shop_id)

        def per_tier(table: Any, sums: tuple[Any, ...], *where: Any) -> Any:
            """Sums over ``table``'s rows per (SKU, tier), as a subquery to join."""
            query = scoped(select(table.c.sku_id, table.c.tier, *sums).where(*where), table)
            return query.group_by(table.c.sku_id, table.c.tier).subquery()

        led, ol = stock_ledger.c, order_lines.c
        ledger = per_tier(
            stock_ledger,
            (func.sum(led.quantity_delta).label("q"), func.sum(led.sold_delta).label("s")),
        )
        held = per_tier(
            order_lines, (func.sum(ol.quantity).label("h"),), ol.status == LineStatus.PAID.value
        )
        query = scoped(
            select(
                _tier.sku_id,
                skus.c.code,
                _tier.tier,
                _tier.quantity,
                _tier.sold,
                func.coalesce(ledger.c.q, 0).label("ledger_quantity"),
                func.coalesce(ledger.c.s, 0).label("ledger_sold"),
                func.coalesce(held.c.h, 0).label("held"),
            )
            .join(skus, skus.c.id == _tier.sku_id)
            .outerjoin(ledger, (ledger.c.sku_id == _tier.sku_id) & (ledger.c.tier == _tier.tier))
            .outerjoin(held, (held.c.sku_id == _tier.sku_id) & (held.c.tier == _tier.tier))
            .order_by(_tier.sku_id, _tier.tier),
            stock_tiers,
        )
        return list(self.conn.execute(query))
