"""Unit of work: one connection, one transaction, the repositories that share it.

``with uow:`` opens the transaction; leaving the block without ``uow.commit()`` rolls it
back, so a failed use case leaves no partial change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import DataError

from tierstock.domain.errors import IdempotencyKeyReusedError, InvalidValueError
from tierstock.domain.idempotency import AnswerPendingError, IdempotencyClaim, Replay
from tierstock.store.audit_repo import AuditRepository
from tierstock.store.capacity_repo import CapacityRepository
from tierstock.store.catalogue_repo import CatalogueRepository
from tierstock.store.channel_repo import ChannelRepository
from tierstock.store.count_repo import CountRepository
from tierstock.store.eligibility_repo import EligibilityRepository
from tierstock.store.engine import sqlite_write_lock
from tierstock.store.front_repo import FrontRepository
from tierstock.store.idempotency_repo import IdempotencyRepository, StoredAnswer
from tierstock.store.order_repo import OrderRepository
from tierstock.store.promise_repo import PromiseRepository
from tierstock.store.shipment_repo import ShipmentRepository
from tierstock.store.stock_repo import StockRepository

Clock = Callable[[], datetime]


class UnitOfWork:
    catalogue: CatalogueRepository
    stock: StockRepository
    orders: OrderRepository
    shipments: ShipmentRepository
    promises: PromiseRepository
    eligibility: EligibilityRepository
    audit: AuditRepository
    idempotency: IdempotencyRepository

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        readonly: bool = False,
        claim: IdempotencyClaim | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.readonly = readonly
        self.claim = claim
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self._lock = None if readonly else sqlite_write_lock(engine)

    def __enter__(self) -> UnitOfWork:
        if self._lock is not None:
            self._lock.acquire()
        try:
            conn = self.engine.connect()
            if self.readonly:
                conn.execution_options(tierstock_readonly=True)
            self._tx = conn.begin()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        self._conn = conn
        self.catalogue = CatalogueRepository(conn)
        self.stock = StockRepository(conn)
        self.orders = OrderRepository(conn)
        self.shipments = ShipmentRepository(conn)
        self.promises = PromiseRepository(conn)
        self.eligibility = EligibilityRepository(conn)
        self.audit = AuditRepository(conn)
        self.idempotency = IdempotencyRepository(conn)
        self.counts = CountRepository(conn)
        self.capacity = CapacityRepository(conn)
        self.front = FrontRepository(conn)
        self.channels = ChannelRepository(conn)
        if self.claim is not None:
            self._claim_or_replay(self.claim)
        return self

    def _claim_or_replay(self, claim: IdempotencyClaim) -> None:
        """Own the key for this transaction, or end it and hand back the first answer."""
        if self.idempotency.claim(claim.shop_id, claim.key, claim.request_hash, self.now()):
            return
        stored = self.idempotency.answer(claim.shop_id, claim.key)
        self.__exit__(None, None, None)
        raise _replay_of(stored, claim)

    def now(self) -> datetime:
        return self.clock()

    def commit(self) -> None:
        assert self._tx is not None, "commit outside `with uow:`"
        self._tx.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None and self._tx is not None
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self._conn.close()
            self._conn = self._tx = None
            if self._lock is not None:
                self._lock.release()
        if isinstance(exc, DataError):
            # The database refused a value it cannot store (PostgreSQL: NUL in text, a
            # number out of range): bad input, refused like any other, not a crash.
            reason = str(exc.orig or exc).splitlines()[0]
            raise InvalidValueError(f"a value cannot be stored: {reason}", field="input") from exc


def _replay_of(stored: StoredAnswer | None, claim: IdempotencyClaim) -> Exception:
    if stored is None:  # the claim conflicted with a transaction that then rolled back
        return AnswerPendingError(
            "a request with this Idempotency-Key is in flight; retry", field="Idempotency-Key"
        )
    if stored.request_hash != claim.request_hash:
        return IdempotencyKeyReusedError(
            "this Idempotency-Key was already used for a different request", field="Idempotency-Key"
        )
    if stored.status_code is None or stored.body is None:
        return AnswerPendingError(
            "the first request with this Idempotency-Key was applied; its answer is not "
            "stored yet — retry in a moment",
            field="Idempotency-Key",
        )
    return Replay(stored.status_code, stored.body)
