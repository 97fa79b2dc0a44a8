"""What every entry point needs to run use cases: an engine, a clock, units of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from tierstock.store.engine import make_engine
from tierstock.store.migrate import upgrade
from tierstock.store.uow import UnitOfWork


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    engine: Engine
    clock: Callable[[], datetime] = field(default=system_clock)

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock, readonly=readonly)

    @classmethod
    def open(cls, database_url: str, *, migrate: bool = True,
             clock: Callable[[], datetime] = system_clock) -> Runtime:
        """Connect and (by default) bring the schema up to date first."""
        engine = make_engine(database_url)
        if migrate:
            upgrade(engine)
        return cls(engine, clock)
