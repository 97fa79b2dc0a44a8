"""The Redis front on the API's event loop (redis_front/front.py has the design).

Reservation scripts of the requests a loop is serving go to Redis together in one
pipeline through an asyncio client: no worker thread per buyer. Only what needs the
database — a listing not yet cached, a lease, a block of order ids — goes to a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import redis
import redis.asyncio

from tierstock.services.placing.async_group import AsyncGroup
from tierstock.services.placing.order import OrderPlaced, PlaceOrder
from tierstock.services.placing.redis_front import lua
from tierstock.services.placing.redis_front.front import (
    MAX_PIPELINE,
    MAX_ROUNDS,
    Need,
    Reservation,
    ReservationFront,
)

Call = lua.Call


class AsyncFront:
    """One per event loop; wraps the process's :class:`ReservationFront`."""

    def __init__(self, front: ReservationFront) -> None:
        self.front = front
        self.client = redis.asyncio.Redis(
            connection_pool=redis.asyncio.ConnectionPool(
                **front.redis.connection_pool.connection_kwargs
            )
        )
        self._reserve = self.client.register_script(lua.RESERVE)
        self._group: AsyncGroup[Call, Any] = AsyncGroup(self._send, MAX_PIPELINE)
        self._supplying: dict[tuple[object, ...], asyncio.Future[object]] = {}

    async def place(self, cmd: PlaceOrder) -> OrderPlaced | None:
        """Like :meth:`ReservationFront.place`: ``None`` sends the order to the database."""
        front = self.front
        if not front.listing_cached(cmd):
            line = cmd.lines[0]
            await self._once(
                ("listing", cmd.shop_id, line.sku_id), front.load_listing, cmd.shop_id, line.sku_id
            )
        res = front.prepare(cmd)  # the listing is cached now: no I/O on the loop
        if res is None:
            return None
        try:
            for _ in range(MAX_ROUNDS):
                answer = await self._group.submit((res.keys, res.args))
                outcome = front.conclude(res, answer)
                if not isinstance(outcome, Need):
                    return outcome
                await self._supply(res, outcome)
        except redis.RedisError as exc:
            return front.unavailable(exc)
        return front.gave_up(res)

    async def _supply(self, res: Reservation, need: Need) -> None:
        key = ("ids",) if need.tier is None else ("lease", res.sku.id, need.tier)
        await self._once(key, self.front.supply, res, need)

    async def _once(
        self, key: tuple[object, ...], fn: Callable[..., object], *args: object
    ) -> None:
        """Run ``fn`` in a worker thread once however many buyers of this loop need it
        at the same moment (a lease, an id block, a listing): the others await it."""
        task = self._supplying.get(key)
        if task is None:
            task = asyncio.ensure_future(anyio.to_thread.run_sync(fn, *args))
            self._supplying[key] = task
            task.add_done_callback(lambda _: self._supplying.pop(key, None))
        await asyncio.shield(task)

    async def _send(self, calls: list[Call]) -> Sequence[Any]:
        """One pipeline of the calls; those refused for a lost script cache go again
        once the script is loaded (lua.py)."""
        answers = await self._evalsha(calls)
        lost = lua.refused_for_lost_script(answers)
        if lost:
            await self.client.script_load(lua.RESERVE)
            for i, answer in zip(lost, await self._evalsha([calls[i] for i in lost]), strict=True):
                answers[i] = answer
        return answers

    async def _evalsha(self, calls: list[Call]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        lua.queue_calls(pipe, self._reserve.sha, calls)
        answers: list[Any] = await pipe.execute(raise_on_error=False)
        return answers
