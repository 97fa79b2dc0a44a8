"""Unit of work: one connection, one transaction, the repositories that share it.

``with uow:`` opens the transaction; leaving the block without ``uow.commit()`` rolls it
back, so a failed use case leaves no partial change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection, Engine, RootTransaction

from tierstock.store.catalogue_repo import CatalogueRepository
from tierstock.store.engine import sqlite_write_lock
from tierstock.store.order_repo import OrderRepository
from tierstock.store.stock_repo import StockRepository

Clock = Callable[[], datetime]


class UnitOfWork:
    catalogue: CatalogueRepository
    stock: StockRepository
    orders: OrderRepository

    def __init__(self, engine: Engine, clock: Clock, *, readonly: bool = False) -> None:
        self.engine = engine
        self.clock = clock
        self.readonly = readonly
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
        return self

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
