"""The optional Redis reservation front for a live-stream burst (issue: live-burst
performance). Off unless ``TIERSTOCK_REDIS_URL`` is set; PostgreSQL only.

Why: one hot SKU sold through the database is bounded by its tier row (one commit at a
time, even batched). Chinese flash-sale systems put an atomic counter in Redis in front
of the database; this is that design, with the database still the system of record:

1. **Lease.** The front takes a run of a tier's units from the database in one short
   transaction (``take`` + a ``front_leases`` row + a ``lease`` ledger entry): the tier
   row counts them as sold, so every other path — multi-line orders, cancels, stock
   changes, counts — keeps working on what is left and can never sell them twice.
2. **Reserve.** A single-line order is one Lua script (redis_front/lua.py): the
   earliest tier whose leased units hold the whole line gives it its units, an order id
   reserved from the database's sequence, the Idempotency-Key's answer, and an entry on
   a Redis stream — all atomically. The buyer is answered from that.
3. **Fold.** A folder thread (redis_front/fold.py) moves the stream into orders,
   lines and ledger rows in large transactions, then acknowledges and deletes the
   entries; a crash in between re-delivers them and the fold skips what it wrote.
4. **Drain.** ``tierstock front drain`` switches the front off, folds everything and
   gives unsold leased units back to their tiers. ``tierstock verify`` reconciles the
   leases with what Redis holds.

What the front decides differently (documented in the README): a tier marked "dry" (the
database had nothing to lease) stays dry for ``DRY_SECONDS``, so stock added by hand is
seen by the front within that time; a listing, price or sales-form change is seen within
twice ``SKU_CACHE_SECONDS`` (refreshed in the background); SKUs whose presale tier
follows supplier capacity batches, and orders of several lines, go through the database
path. An acknowledged order is as durable as Redis makes the stream: run Redis with
``appendonly yes`` and ``appendfsync always`` for "nothing acknowledged is lost" across a
Redis crash (``everysec`` may lose the last second).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from tierstock.domain.catalogue import Sku
from tierstock.domain.errors import DomainError, IdempotencyKeyReusedError, InvalidValueError
from tierstock.domain.orders import LineStatus, Order, OrderLine, check_lines
from tierstock.domain.policy import PolicyPack
from tierstock.domain.promises import ship_by
from tierstock.domain.sales_forms import Tier
from tierstock.services.catalogue import shop_policy
from tierstock.services.placing.leader_queue import LeaderQueue, Waiter
from tierstock.services.placing.order import (
    OrderPlaced,
    PlaceOrder,
    checked_key,
    sellable,
)
from tierstock.services.placing.path import Database
from tierstock.services.placing.redis_front import lua
from tierstock.services.placing.redis_front.supply import FrontSupply
from tierstock.store.engine import database_identity, dialect_of

log = logging.getLogger("tierstock.front")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SKU_CACHE_SECONDS = 1.0
KEY_TTL_SECONDS = 24 * 3600  # how long a retry with the same key replays from Redis
# Leases / id blocks one order may wait for. Every round leases units or finds a tier
# dry, so an order ends long before this; it is a guard against a bug, not a limit.
MAX_ROUNDS = 1_000
MAX_PIPELINE = 256


def micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def from_micros(us: int | str) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


@dataclass(frozen=True)
class _Listing:
    """What the front needs of a SKU, cached for ``SKU_CACHE_SECONDS``."""

    sku: Sku | None
    listed: bool
    policy: PolicyPack
    zone: ZoneInfo
    by_front: bool  # False: its presale follows capacity batches -> the database path
    until: float


class ReservationFront:
    """Thread-safe; one per process (the runtime's ``front``)."""

    def __init__(self, db: Database, client: redis.Redis, namespace: str, lease_units: int) -> None:
        _require_postgresql(db)
        if lease_units < 1:
            raise InvalidValueError(
                "TIERSTOCK_FRONT_LEASE_UNITS must be at least 1",
                field="TIERSTOCK_FRONT_LEASE_UNITS",
            )
        self.db = db
        self.redis = client
        # the folder reads thousands of stream fields a second: hiredis decodes them in C
        self.text_redis = redis.Redis(
            connection_pool=redis.ConnectionPool(
                **{**client.connection_pool.connection_kwargs, "decode_responses": True}
            )
        )
        self.prefix = f"tsf:{{{namespace}}}:"
        self.lease_units = lease_units
        self._reserve = client.register_script(lua.RESERVE)
        # Reservations that arrive together go to Redis in one pipeline: one round trip
        # (and one wake-up of Redis) per batch instead of one per buyer.
        self._pipeline: LeaderQueue[_Call] = LeaderQueue(self._send, MAX_PIPELINE)
        self.drain_script = client.register_script(lua.DRAIN)
        self.snapshot_script = client.register_script(lua.SNAPSHOT)
        self._listings: dict[tuple[int, int], _Listing] = {}
        self._refreshing: set[tuple[int, int]] = set()
        self.supplies = FrontSupply(self)

    @classmethod
    def connect(
        cls, db: Database, redis_url: str, lease_units: int, namespace: str | None = None
    ) -> ReservationFront:
        """The front on the Redis at ``redis_url``; its keys are named after the
        database (``namespace`` by default), so two databases never share a front."""
        _require_postgresql(db)
        client = redis.Redis.from_url(redis_url)
        try:
            client.ping()
        except redis.RedisError as exc:
            where = client.connection_pool.connection_kwargs  # never echo a password
            raise InvalidValueError(
                f"cannot reach Redis at {where.get('host')}:{where.get('port')}: {exc}",
                field="TIERSTOCK_REDIS_URL",
            ) from None
        if namespace is None:
            namespace = database_identity(db.engine)
        return cls(db, client, namespace, lease_units)

    def forget_everything(self) -> None:
        """Delete every key of this front (tests and benchmarks start clean)."""
        keys = list(self.redis.scan_iter(match=self.prefix + "*", count=1000))
        if keys:
            self.redis.delete(*keys)

    # keys ---------------------------------------------------------------------------
    def key(self, name: str) -> str:
        return self.prefix + name

    def tier_keys(self, sku_id: int, tier: Tier) -> tuple[str, str, str, str]:
        """(current run, its leases, queued leases, dry flag) of one SKU tier
        (redis_front/lua.py)."""
        return (
            self.key(f"t:{sku_id}:{tier}"),
            self.key(f"s:{sku_id}:{tier}"),
            self.key(f"q:{sku_id}:{tier}"),
            self.key(f"dry:{sku_id}:{tier}"),
        )

    # switching ----------------------------------------------------------------------
    def is_on(self) -> bool:
        return not self.redis.exists(self.key("off"))

    def switch_on(self) -> None:
        self.redis.delete(self.key("off"))

    # the hot path -------------------------------------------------------------------
    def place(self, cmd: PlaceOrder) -> OrderPlaced | None:
        """Reserve a single-line order in Redis; ``None`` sends it to the database path
        (several lines, a SKU the front does not sell, the front switched off, Redis
        unreachable). Thread-safe; ``front_async.AsyncFront.place`` is the event-loop twin."""
        res = self.prepare(cmd)
        if res is None:
            return None
        try:
            for _ in range(MAX_ROUNDS):
                call = _Call(res.keys, res.args)
                self._pipeline.run(call)
                if call.error is not None:
                    raise call.error
                outcome = self.conclude(res, call.result)
                if not isinstance(outcome, Need):
                    return outcome
                self.supply(res, outcome)
        except redis.RedisError as exc:
            return self.unavailable(exc)
        return self.gave_up(res)

    def prepare(self, cmd: PlaceOrder) -> Reservation | None:
        """Check the order and build its script call; ``None``: not for the front.
        Reads the database only when the SKU's listing is not cached."""
        if cmd.needs_own_transaction:
            return None
        key = checked_key(cmd)
        req = cmd.lines[0]
        listing = self._listing(cmd.shop_id, req.sku_id)
        sku = sellable({req.sku_id: (listing.sku, listing.listed)} if listing.sku else {}, req, 0)
        check_lines([req], listing.policy.orders)
        if not listing.by_front:
            return None
        paid_at = self.db.clock()
        tiers = self._open_tiers(sku, paid_at, listing.zone)
        keys = [
            self.key("off"),
            self.key("ids"),
            self.key(f"k:{cmd.shop_id}:{key}"),
            self.key("stream"),
            self.key("stranded"),
        ]
        args: list[Any] = [
            req.quantity,
            cmd.request_hash(),
            KEY_TTL_SECONDS,
            cmd.shop_id,
            key,
            cmd.buyer or "",
            1 if cmd.buyer is not None else 0,
            cmd.actor,
            sku.id,
            sku.price_fen,
            micros(paid_at),
        ]
        for tier, deadline in tiers:
            keys.extend(self.tier_keys(sku.id, tier))
            args.extend((tier.value, micros(deadline)))
        return Reservation(cmd, sku, tiers, keys, args, paid_at)

    def listing_cached(self, cmd: PlaceOrder) -> bool:
        """Whether :meth:`prepare` can run without touching the database."""
        if len(cmd.lines) != 1:
            return True
        cached = self._listings.get((cmd.shop_id, cmd.lines[0].sku_id))
        return cached is not None and cached.until + SKU_CACHE_SECONDS > time.monotonic()

    def conclude(self, res: Reservation, answer: list[Any]) -> OrderPlaced | Need | None:
        """What the script's answer means for the buyer (or what it needs first)."""
        kind = answer[0].decode()
        cmd, sku, req = res.cmd, res.sku, res.cmd.lines[0]
        if kind == "ok":
            index = int(answer[2]) - 1
            tier, deadline = res.tiers[index]
            then = res.tiers[index + 1][0] if index + 1 < len(res.tiers) else None
            self.supplies.restock_soon(
                cmd.shop_id, sku.id, tier, then, int(answer[4]), int(answer[5]), int(answer[6])
            )
            line = OrderLine(
                1, sku.id, req.quantity, tier, sku.price_fen, deadline, LineStatus.PAID
            )
            order = Order(int(answer[1]), cmd.shop_id, cmd.buyer, res.paid_at, (line,))
            return OrderPlaced(order, replayed=False)
        if kind == "replay":
            return _replayed(answer[1].decode(), cmd)
        if kind == "off":
            return None
        if kind == "ids":
            return Need(None)
        if kind == "lease":
            return Need(res.tiers[int(answer[1]) - 1][0])
        # "out": every tier is dry. A tier is marked dry for DRY_SECONDS when the
        # database had nothing left to lease, but units may have come back since (a
        # cancel, a drain, a receipt): the database decides, so the front never refuses
        # a buyer the database path would have sold to (tests/contract). Past the
        # sell-out this sends refusals through the database, which refuses in batches.
        return None

    def supply(self, res: Reservation, need: Need) -> None:
        """Reserve order ids, or lease units of the tier the script asked for."""
        if need.tier is None:
            self.supplies.refill_ids()
        else:
            self.lease(res.cmd.shop_id, res.sku.id, need.tier, res.cmd.lines[0].quantity)

    @staticmethod
    def unavailable(exc: Exception) -> None:
        # Redis is unreachable: the database path sells what is not leased, so it can
        # never sell a leased unit. A reservation Redis made before failing is folded
        # later and voided by the key this order takes (front_fold.fold).
        log.warning("Redis front unavailable (%s); order goes to the database", exc)

    @staticmethod
    def gave_up(res: Reservation) -> None:
        log.warning(
            "order %r found no leased units after %d leases; database path",
            res.cmd.idempotency_key,
            MAX_ROUNDS,
        )

    def _send(self, batch: list[_Call]) -> None:
        """Run the batch's reservation scripts in one pipeline (not a transaction: each
        script is atomic on its own, and each buyer gets its own answer); calls refused
        for a lost script cache go again once the script is loaded (lua.py)."""
        answers = self._evalsha([(c.keys, c.args) for c in batch])
        lost = lua.refused_for_lost_script(answers)
        if lost:
            self.redis.script_load(lua.RESERVE)
            again = self._evalsha([(batch[i].keys, batch[i].args) for i in lost])
            for i, answer in zip(lost, again, strict=True):
                answers[i] = answer
        for call, answer in zip(batch, answers, strict=True):
            if isinstance(answer, Exception):
                call.settle(None, answer)
            else:
                call.settle(answer)

    def _evalsha(self, calls: list[lua.Call]) -> list[Any]:
        pipe = self.redis.pipeline(transaction=False)
        lua.queue_calls(pipe, self._reserve.sha, calls)
        answers: list[Any] = pipe.execute(raise_on_error=False)
        return answers

    def _open_tiers(
        self, sku: Sku, paid_at: datetime, zone: ZoneInfo
    ) -> list[tuple[Tier, datetime]]:
        """The form's tiers with the ship-by a line in each would get; a presale that
        ended is left out (the database path refuses it if nothing else holds the line)."""
        tiers = []
        for tier in sku.sales_form.tiers:
            try:
                tiers.append((tier, ship_by(paid_at, sku.sales_form, tier, zone)))
            except DomainError:
                continue
        return tiers

    def _listing(self, shop_id: int, sku_id: int) -> _Listing:
        """The SKU's listing, at most ``SKU_CACHE_SECONDS`` old — or up to twice that
        while one background read refreshes it: a burst never waits on that read."""
        now = time.monotonic()
        cached = self._listings.get((shop_id, sku_id))
        if cached is not None and cached.until > now:
            return cached
        if cached is not None and cached.until + SKU_CACHE_SECONDS > now:
            if (shop_id, sku_id) not in self._refreshing:
                self._refreshing.add((shop_id, sku_id))
                self.supplies.ahead(self._refresh_listing, shop_id, sku_id)
            return cached
        return self.load_listing(shop_id, sku_id)

    def _refresh_listing(self, shop_id: int, sku_id: int) -> None:
        try:
            self.load_listing(shop_id, sku_id)
        finally:
            self._refreshing.discard((shop_id, sku_id))

    def load_listing(self, shop_id: int, sku_id: int) -> _Listing:
        now = time.monotonic()
        with self.db.uow(readonly=True) as uow:
            policy = shop_policy(uow, shop_id)
            found = uow.catalogue.skus_for_sale(shop_id, [sku_id]).get(sku_id)
            by_front = found is not None and uow.capacity.layout(sku_id) is None
        sku, listed = found if found is not None else (None, False)
        listing = _Listing(
            sku,
            listed,
            policy,
            ZoneInfo(policy.display_timezone),
            by_front,
            now + SKU_CACHE_SECONDS,
        )
        if len(self._listings) > 10_000:
            self._listings.clear()
        self._listings[(shop_id, sku_id)] = listing
        return listing

    # supplies: order ids and leases (redis_front/supply.py) ------------------------
    def lease(
        self, shop_id: int, sku_id: int, tier: Tier, at_least: int = 1, then: Tier | None = None
    ) -> int:
        return self.supplies.lease(shop_id, sku_id, tier, at_least, then)

    def wait_for_background(self) -> None:
        self.supplies.wait_for_background()


@dataclass(frozen=True)
class Reservation:
    """One order on its way through the front: the checked order and its script call."""

    cmd: PlaceOrder
    sku: Sku
    tiers: list[tuple[Tier, datetime]]  # the tiers the form sells, with their ship-by
    keys: list[str]
    args: list[Any]
    paid_at: datetime


@dataclass(frozen=True)
class Need:
    """The script's answer before a sale: order ids (``tier`` None) or a lease."""

    tier: Tier | None


def _require_postgresql(db: Database) -> None:
    if dialect_of(db.engine) != "postgresql":
        raise InvalidValueError(
            "the Redis front needs PostgreSQL (TIERSTOCK_DATABASE_URL)",
            field="TIERSTOCK_REDIS_URL",
        )


class _Call(Waiter):
    """One buyer's reservation script, waiting for the pipeline that runs it."""

    __slots__ = ("args", "keys")

    def __init__(self, keys: list[str], args: list[Any]) -> None:
        super().__init__()
        self.keys, self.args = keys, args


def _replayed(record: str, cmd: PlaceOrder) -> OrderPlaced:
    """The first answer for this key, rebuilt from what the script stored."""
    (
        order_id,
        request_hash,
        tier,
        _after,
        ship_us,
        paid_us,
        price,
        sku_id,
        qty,
        has_buyer,
        buyer,
    ) = record.split("|", 10)
    if request_hash != cmd.request_hash():
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was already used for a different order", field="Idempotency-Key"
        )
    line = OrderLine(
        1, int(sku_id), int(qty), Tier(tier), int(price), from_micros(ship_us), LineStatus.PAID
    )
    order = Order(
        int(order_id),
        cmd.shop_id,
        buyer if has_buyer == "1" else None,
        from_micros(paid_us),
        (line,),
    )
    return OrderPlaced(order, replayed=True)
