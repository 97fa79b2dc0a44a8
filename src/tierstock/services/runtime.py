"""What every entry point needs to run use cases: an engine, a clock, units of work,
and the order path this process places orders through.

The runtime is where the choice of path is made, in one place (:meth:`Runtime.open`
and :meth:`Runtime.attach_front`): group commit by default, one transaction per order
with ``batch_orders=False``, the Redis front in front of either with
``TIERSTOCK_REDIS_URL``. The paths (services/placing/) never import the runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import anyio

from tierstock.domain.idempotency import IdempotencyClaim
from tierstock.domain.orders import Order
from tierstock.services.placing import CancelOrder, OrderPath, OrderPlaced, PlaceOrder
from tierstock.services.placing.async_group import AsyncGroup
from tierstock.services.placing.group_commit import GroupCommit
from tierstock.services.placing.per_order import PerOrder
from tierstock.store.engine import Engine, make_engine
from tierstock.store.migrate import upgrade
from tierstock.store.uow import UnitOfWork

if TYPE_CHECKING:
    from tierstock.config import Settings
    from tierstock.services.placing.redis_front.fold import Folder
    from tierstock.services.placing.redis_front.front import ReservationFront
    from tierstock.services.placing.redis_front.on_loop import AsyncFront


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    engine: Engine
    clock: Callable[[], datetime] = field(default=system_clock)
    batch_orders: bool = True  # group commit of single-line orders (placing/group_commit.py)
    card_cache_seconds: float = 0.0  # how stale a product card may be (services/card.py)
    # Where the key sealing channel credentials comes from (settings; read on first use).
    secret_source: Callable[[], bytes] | None = field(default=None, repr=False)
    orders: OrderPath = field(init=False, repr=False)  # the path orders go through
    _database_path: OrderPath = field(init=False, repr=False)  # per order or group commit
    front: ReservationFront | None = field(default=None, init=False, repr=False)
    _async_front: AsyncFront | None = field(default=None, init=False, repr=False)
    _async_orders: AsyncGroup[PlaceOrder, OrderPlaced] | None = field(
        default=None, init=False, repr=False
    )
    _folder: Folder | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._database_path = GroupCommit(self) if self.batch_orders else PerOrder(self)
        self.orders = self._database_path

    def secret_key(self) -> bytes | None:
        """The key channel credentials are sealed with (services/channels/credentials.py)."""
        return None if self.secret_source is None else self.secret_source()

    def uow(self, *, readonly: bool = False, claim: IdempotencyClaim | None = None) -> UnitOfWork:
        """A unit of work; with ``claim`` it owns that Idempotency-Key or replays."""
        return UnitOfWork(self.engine, self.clock, readonly=readonly, claim=claim)

    def place_order(self, cmd: PlaceOrder) -> OrderPlaced:
        """Place an order through the path this runtime picked (see the module)."""
        return self.orders.place(cmd)

    def cancel_order(self, cmd: CancelOrder) -> Order:
        return self.orders.cancel(cmd)

    @classmethod
    def open(
        cls,
        database_url: str,
        *,
        migrate: bool = True,
        clock: Callable[[], datetime] = system_clock,
        batch_orders: bool = True,
        card_cache_seconds: float = 0.0,
    ) -> Runtime:
        """Connect and (by default) bring the schema up to date first."""
        engine = make_engine(database_url)
        if migrate:
            upgrade(engine)
        return cls(engine, clock, batch_orders, card_cache_seconds)

    async def place_order_async(self, cmd: PlaceOrder) -> OrderPlaced:
        """:meth:`place_order` for an event loop (the API): the orders its requests
        carry are grouped on the loop (placing/async_group.py) — reserved in Redis with
        one pipeline, or written by one worker-thread call per batch."""
        if self.front is not None:
            if self._async_front is None:
                from tierstock.services.placing.redis_front.on_loop import AsyncFront

                self._async_front = AsyncFront(self.front)
            reserved = await self._async_front.place(cmd)
            if reserved is not None:
                return reserved
        if self._async_orders is None:
            self._async_orders = AsyncGroup(self._place_together, 256)
        return await self._async_orders.submit(cmd)

    async def _place_together(self, cmds: list[PlaceOrder]) -> list[OrderPlaced | BaseException]:
        return await anyio.to_thread.run_sync(self._database_path.place_many, cmds)

    def attach_front(
        self, redis_url: str, lease_units: int, *, fold: bool = True, namespace: str | None = None
    ) -> None:
        """Sell single-line orders through the Redis front (placing/redis_front/); with
        ``fold`` this process also runs a folder thread writing the front's stream."""
        from tierstock.services.placing.redis_front.front import ReservationFront
        from tierstock.services.placing.redis_front.path import FrontPath

        self.front = ReservationFront.connect(self, redis_url, lease_units, namespace)
        self.orders = FrontPath(self.front, self._database_path)
        if fold:
            self.start_folder()

    def start_folder(self) -> None:
        """Run a thread folding the front's stream into the database (one per process)."""
        from tierstock.services.placing.redis_front.fold import Folder

        assert self.front is not None and self._folder is None
        self._folder = Folder(self.front)
        self._folder.start()

    def close(self) -> None:
        """Stop the folder thread (if any) and close the database pool."""
        if self._folder is not None:
            self._folder.stop()
            self._folder = None
        self.engine.dispose()

    @classmethod
    def from_settings(cls, settings: Settings, *, fold: bool = True) -> Runtime:
        """The runtime the ``TIERSTOCK_*`` variables describe (API server and CLI)."""
        runtime = cls.open(
            settings.resolved_database_url(),
            batch_orders=settings.batch_orders,
            card_cache_seconds=settings.card_cache_seconds,
        )
        runtime.secret_source = settings.resolved_secret_key
        if settings.redis_url:
            runtime.attach_front(
                settings.redis_url,
                settings.front_lease_units,
                fold=fold and settings.front_fold_in_process,
            )
        return runtime
