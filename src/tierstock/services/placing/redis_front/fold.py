"""Fold the Redis front's stream into the database, drain the front, reconcile it
(redis_front/front.py explains the design).

The stream is a Redis consumer group: each process's folder reads new entries, writes
them in one transaction, then acknowledges and deletes them. Entries a folder read but
never acknowledged (it died) are claimed by another folder after ``CLAIM_IDLE_MS``; the
fold skips orders it already wrote (their ids exist) and releases a lease at most once,
so a re-delivery changes nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import redis

from tierstock.domain.errors import InvalidValueError
from tierstock.domain.leases import FoldedSale
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.orders import NewLine
from tierstock.domain.sales_forms import Tier
from tierstock.services.placing.redis_front.front import ReservationFront, from_micros
from tierstock.services.placing.redis_front.leases import per_lease, release
from tierstock.store.engine import ConstraintViolation
from tierstock.store.uow import UnitOfWork

log = logging.getLogger("tierstock.front")

GROUP = "fold"
BATCH = 2_000
CLAIM_IDLE_MS = 15_000
BLOCK_MS = 20


@dataclass
class Folded:
    sales: int = 0
    released: int = 0  # leased units given back to their tiers
    skipped: int = 0  # re-delivered entries already in the database
    void: list[int] = field(default_factory=list)  # order ids whose key was taken before


def _sale(f: dict[str, str]) -> FoldedSale:
    return FoldedSale(
        order_id=int(f["o"]),
        shop_id=int(f["s"]),
        idempotency_key=f["k"],
        request_hash=f["h"],
        buyer=f["b"] if f["hb"] == "1" else None,
        paid_at=from_micros(f["t"]),
        sku_id=int(f["u"]),
        tier=Tier(f["r"]),
        quantity=int(f["q"]),
        unit_price_fen=int(f["c"]),
        ship_by=from_micros(f["y"]),
        tier_sold_after=int(f["p"]),
    )


def fold(entries: list[tuple[str, dict[str, str]]], uow: UnitOfWork) -> Folded:
    """Write one batch of stream entries ``(entry id, fields)`` in one transaction."""
    sales = {int(f["o"]): (_sale(f), f) for _, f in entries if f["e"] == "sale"}
    out = Folded()
    with uow:
        inserted = uow.front.insert_sales([s for s, _ in sales.values()])
        fresh = [sales[i] for i in sorted(inserted)]
        missing = [s for s, _ in sales.values() if s.order_id not in inserted]
        existing = uow.front.existing_orders(s.order_id for s in missing) if missing else set()
        for s in missing:
            if s.order_id in existing:
                out.skipped += 1  # folded before this re-delivery
            else:  # the buyer was answered, but the key had an order already
                log.error(
                    "front order %d voided: shop %d already has an order for key %r",
                    s.order_id,
                    s.shop_id,
                    s.idempotency_key,
                )
                out.void.append(s.order_id)
        uow.orders.insert_lines_of(
            [
                (
                    s.shop_id,
                    s.order_id,
                    NewLine(
                        1,
                        s.sku_id,
                        s.quantity,
                        s.tier,
                        s.unit_price_fen,
                        s.ship_by,
                        s.tier_sold_after,
                    ),
                )
                for s, _ in fresh
            ]
        )
        sold: dict[int, int] = defaultdict(int)
        ledger = []
        for s, f in fresh:
            for lease_id, n in per_lease(f["L"]).items():
                sold[lease_id] += n
            ledger.append(
                LedgerEntry(
                    s.shop_id,
                    s.sku_id,
                    s.tier,
                    LedgerKind.SALE,
                    0,
                    s.quantity,
                    f["a"],
                    "order paid",
                    s.paid_at,
                    s.order_id,
                    1,
                )
            )
        for lease_id, lease in sorted(uow.front.leases(sold).items()):
            ledger.append(
                LedgerEntry(
                    lease.shop_id,
                    lease.sku_id,
                    lease.tier,
                    LedgerKind.LEASE,
                    0,
                    -sold[lease_id],
                    "front",
                    f"lease {lease_id}: units sold",
                    uow.now(),
                )
            )
        uow.stock.record(ledger)
        uow.front.add_sold(sold)  # one statement, leases in id order
        for entry_id, f in entries:
            if f["e"] == "release":
                out.released += release(uow, f"entry:{entry_id}", per_lease(f["L"]))
        out.sales = len(fresh)
        uow.commit()
    return out


class Folder:
    """Reads the stream as one consumer of the group and folds what it reads."""

    def __init__(self, front: ReservationFront, name: str | None = None) -> None:
        self.front = front
        self.stream = front.key("stream")
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_own = True  # first read what this consumer left unacknowledged
        self.ensure_group()

    def ensure_group(self) -> None:
        """Create the stream's consumer group (again, if Redis lost it)."""
        try:
            self.front.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def fold_once(
        self, block_ms: int | None = BLOCK_MS, claim_idle_ms: int = CLAIM_IDLE_MS
    ) -> Folded:
        """Fold one batch: this consumer's own unacknowledged entries first, then
        entries dead consumers left for ``claim_idle_ms``, then new ones."""
        batch = self._read(block_ms, claim_idle_ms)
        if not batch:
            return Folded()
        try:
            done = fold(batch, self.front.db.uow())
        except (InvalidValueError, ConstraintViolation):
            done = self._fold_one_by_one(batch)
        self._forget([entry_id for entry_id, _ in batch])
        return done

    def _fold_one_by_one(self, batch: list[tuple[str, dict[str, str]]]) -> Folded:
        """A batch the database refused (a value it cannot store: the unit of work makes
        that an InvalidValueError): fold its entries one by one, so one entry it
        cannot store never holds up every buyer after it. Such an entry is logged and
        dropped; its units stay with the lease, where `tierstock verify` reports them
        and `tierstock front drain` gives them back."""
        total = Folded()
        for entry in batch:
            try:
                done = fold([entry], self.front.db.uow())
            except (InvalidValueError, ConstraintViolation):
                log.exception("front entry %s cannot be stored; dropped: %s", *entry)
                continue
            total.sales += done.sales
            total.released += done.released
            total.skipped += done.skipped
            total.void += done.void
        return total

    def _forget(self, ids: list[str]) -> None:
        """Acknowledge and delete folded entries (after their transaction committed)."""
        pipe = self.front.redis.pipeline(transaction=False)
        pipe.xack(self.stream, GROUP, *ids)
        pipe.xdel(self.stream, *ids)
        pipe.execute()

    def _read(self, block_ms: int | None, claim_idle_ms: int) -> list[tuple[str, dict[str, str]]]:
        r: Any = self.front.text_redis  # RESP2 replies: lists, not the RESP3 dicts typed
        if self._retry_own:
            got = r.xreadgroup(GROUP, self.name, {self.stream: "0"}, count=BATCH)
            self._retry_own = False
            if got and got[0][1]:
                return _decoded(got[0][1])
        claimed = r.xautoclaim(self.stream, GROUP, self.name, claim_idle_ms, "0-0", count=BATCH)
        if claimed[1]:
            return _decoded(claimed[1])
        got = r.xreadgroup(GROUP, self.name, {self.stream: ">"}, count=BATCH, block=block_ms)
        return _decoded(got[0][1]) if got else []

    def fold_all(self, claim_idle_ms: int = CLAIM_IDLE_MS) -> Folded:
        """Fold until the stream has nothing this folder may take."""
        total = Folded()
        while True:
            done = self.fold_once(block_ms=None, claim_idle_ms=claim_idle_ms)
            idle = not (done.sales or done.released or done.skipped or done.void)
            if idle and not self._pending_new():
                return total
            total.sales += done.sales
            total.released += done.released
            total.skipped += done.skipped
            total.void += done.void

    def _pending_new(self) -> bool:
        info = self.front.redis.xinfo_groups(self.stream)
        group = next((g for g in info if _text(g["name"]) == GROUP), None)
        return bool(group and group.get("lag"))

    # background thread ------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tierstock-folder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.fold_once()
            except redis.ResponseError as exc:  # the stream or its group was deleted
                log.warning("the front's stream is gone (%s); creating it again", exc)
                self.ensure_group()
            except Exception:
                log.exception("folding the front's stream failed; retrying")
                self._retry_own = True
                time.sleep(0.5)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decoded(raw: list[Any]) -> list[tuple[str, dict[str, str]]]:
    """Entries of a ``decode_responses`` client; deleted ones come back empty."""
    return [(entry_id, fields) for entry_id, fields in raw if fields]
