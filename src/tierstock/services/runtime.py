"""What every entry point needs to run use cases: an engine, a clock, units of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from tierstock.domain.idempotency import IdempotencyClaim
from tierstock.store.engine import make_engine
from tierstock.store.migrate import upgrade
from tierstock.store.uow import UnitOfWork

if TYPE_CHECKING:
    from tierstock.config import Settings
    from tierstock.services.async_group import AsyncGroup
    from tierstock.services.batching import OrderBatcher
    from tierstock.services.front import ReservationFront
    from tierstock.services.front_async import AsyncFront
    from tierstock.services.front_fold import Folder
    from tierstock.services.orders import OrderPlaced, PlaceOrder


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    engine: Engine
    clock: Callable[[], datetime] = field(default=system_clock)
    batch_orders: bool = True  # group commit of single-line orders (services/batching.py)
    card_cache_seconds: float = 0.0  # how stale a product card may be (services/card.py)
    _batcher: OrderBatcher | None = field(default=None, init=False, repr=False)
    front: ReservationFront | None = field(default=None, init=False, repr=False)
    _async_front: AsyncFront | None = field(default=None, init=False, repr=False)
    _async_orders: AsyncGroup[PlaceOrder, OrderPlaced] | None = field(
        default=None, init=False, repr=False
    )
    _folder: Folder | None = field(default=None, init=False, repr=False)

    def uow(self, *, readonly: bool = False, claim: IdempotencyClaim | None = None) -> UnitOfWork:
        """A unit of work; with ``claim`` it owns that Idempotency-Key or replays."""
        return UnitOfWork(self.engine, self.clock, readonly=readonly, claim=claim)

    def place_order(self, cmd: PlaceOrder) -> OrderPlaced:
        """Place an order the way this runtime is configured: through the Redis front
        when there is one and it takes the order, else through the group-commit batcher
        (default) or in a transaction of its own."""
        if self.front is not None:
            reserved = self.front.place(cmd)
            if reserved is not None:
                return reserved
        if not self.batch_orders:
            from tierstock.services.orders import place_order

            return place_order(cmd, self.uow())
        return self._order_batcher().place(cmd)

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
        carry are grouped on the loop (services/async_group.py) — reserved in Redis with
        one pipeline, or written by one worker-thread call per batch."""
        if self.front is not None:
            if self._async_front is None:
                from tierstock.services.front_async import AsyncFront

                self._async_front = AsyncFront(self.front)
            reserved = await self._async_front.place(cmd)
            if reserved is not None:
                return reserved
        if self._async_orders is None:
            from tierstock.services.async_group import AsyncGroup

            self._async_orders = AsyncGroup(self._place_together, 256)
        return await self._async_orders.submit(cmd)

    async def _place_together(self, cmds: list[PlaceOrder]) -> list[OrderPlaced | BaseException]:
        import anyio

        return await anyio.to_thread.run_sync(self._place_together_sync, cmds)

    def _place_together_sync(self, cmds: list[PlaceOrder]) -> list[OrderPlaced | BaseException]:
        if self.batch_orders:
            return self._order_batcher().place_together(cmds)
        from tierstock.services.orders import place_order

        answers: list[OrderPlaced | BaseException] = []
        for cmd in cmds:
            try:
                answers.append(place_order(cmd, self.uow()))
            except Exception as exc:
                answers.append(exc)
        return answers

    def _order_batcher(self) -> OrderBatcher:
        if self._batcher is None:
            from tierstock.services.batching import OrderBatcher

            self._batcher = OrderBatcher(self)
        return self._batcher

    def attach_front(
        self, redis_url: str, lease_units: int, *, fold: bool = True, namespace: str | None = None
    ) -> None:
        """Sell single-line orders through the Redis front (services/front.py); with
        ``fold`` this process also runs a folder thread writing the front's stream."""
        from tierstock.services.front import ReservationFront

        self.front = ReservationFront.connect(self, redis_url, lease_units, namespace)
        if fold:
            self.start_folder()

    def start_folder(self) -> None:
        """Run a thread folding the front's stream into the database (one per process)."""
        from tierstock.services.front_fold import Folder

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
        if settings.redis_url:
            runtime.attach_front(
                settings.redis_url,
                settings.front_lease_units,
                fold=fold and settings.front_fold_in_process,
            )
        return runtime
