"""Dependencies every router shares: the runtime, the calling key, its permissions, and
idempotent units of work.

Every shop-scoped endpoint declares the permission it needs (``Reader``,
``CatalogueWriter`` …). The role is checked before any object is looked up, so a 403
never reveals whether an object exists; objects of another shop answer 404 because
every query is scoped to the key's shop.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import anyio
from fastapi import Depends, Header, Path, Query, Request

from tierstock.domain.access import ForbiddenError, Permission, Role, ensure_allowed
from tierstock.domain.errors import InvalidValueError, UnauthorizedError
from tierstock.domain.idempotency import IdempotencyClaim, request_hash
from tierstock.policies import load_pack
from tierstock.services import shops
from tierstock.services.runtime import Runtime

MAX_KEY_LENGTH = 200
MAX_ID = 2**62  # ids are BIGINT; anything larger cannot name a row
MAX_OFFSET = 1_000_000

# Path and paging parameters, bounded so no value can overflow a database integer.
ProductId = Annotated[int, Path(ge=1, le=MAX_ID)]
SkuId = Annotated[int, Path(ge=1, le=MAX_ID)]
OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]
LineNo = Annotated[int, Path(ge=1, le=10_000)]
KeyId = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency in
# a worker thread, a hand-off that costs more than the check itself on the hot path.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@dataclass(frozen=True)
class Caller:
    """The shop (and role) an API key speaks for; every query is scoped to it."""

    shop_id: int
    role: str
    key_id: int
    zone: ZoneInfo
    supplier_id: int | None = None  # a supplier key: the supplier it speaks for

    @property
    def actor(self) -> str:
        """Who, for the ledger and the audit trail: shop, role and key id."""
        return f"shop{self.shop_id}:{self.role}#key{self.key_id}"


ApiKeyHeader = Annotated[str | None, Header(description="the shop's API key")]


async def get_caller(request: Request, x_api_key: ApiKeyHeader = None) -> Caller:
    """The caller, from the key (cached) — one flat dependency: FastAPI's per-request
    work grows with every nested ``Depends``, and this runs on every request."""
    runtime: Runtime = request.app.state.runtime
    if not x_api_key:
        raise UnauthorizedError(
            "send the shop's API key in the X-API-Key header", field="X-API-Key"
        )
    owner = shops.cached_owner(runtime.engine, x_api_key)
    if owner is None:  # a database read: off the event loop
        owner = await anyio.to_thread.run_sync(
            shops.authenticate, x_api_key, runtime.uow(readonly=True)
        )
    zone = ZoneInfo(load_pack(owner.policy).display_timezone)
    return Caller(owner.shop_id, owner.role, owner.key_id, zone, owner.supplier_id)


CallerDep = Annotated[Caller, Depends(get_caller)]


def _allowed(
    permission: Permission,
) -> Callable[[Request, str | None], Coroutine[Any, Any, Caller]]:
    async def check(request: Request, x_api_key: ApiKeyHeader = None) -> Caller:
        caller = await get_caller(request, x_api_key)
        ensure_allowed(caller.role, permission)
        return caller

    return check


Reader = Annotated[Caller, Depends(_allowed(Permission.READ))]
CatalogueWriter = Annotated[Caller, Depends(_allowed(Permission.CATALOGUE))]
StockWriter = Annotated[Caller, Depends(_allowed(Permission.STOCK))]
OrderWriter = Annotated[Caller, Depends(_allowed(Permission.ORDERS))]
ShippingWriter = Annotated[Caller, Depends(_allowed(Permission.SHIPPING))]
DelayWriter = Annotated[Caller, Depends(_allowed(Permission.DELAYS))]
KeyAdmin = Annotated[Caller, Depends(_allowed(Permission.KEYS))]
CapacityWriter = Annotated[Caller, Depends(_allowed(Permission.CAPACITY))]


async def _owner(request: Request, x_api_key: ApiKeyHeader = None) -> Caller:
    """The shop's owner alone, whatever the permissions: setting up a platform store
    hands tierstock the store's open-API secrets, and a drift repair writes to every store."""
    caller = await get_caller(request, x_api_key)
    if caller.role != Role.OWNER.value:
        raise ForbiddenError(
            f"a key with role {caller.role!r} may not do this (the owner's alone)",
            field="X-API-Key",
        )
    return caller


Owner = Annotated[Caller, Depends(_owner)]


def _canonical(body: bytes) -> bytes:
    """JSON bodies compare by content, not by spacing or key order."""
    if not body:
        return b""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


class Writes:
    """Units of work for one write request; with an Idempotency-Key, the first one
    claims the key in its own transaction (or replays the first answer).

    ``uow()`` is ``runtime.uow`` with the claim bound: its type is whatever the Runtime
    returns, so this entry point names nothing from ``tierstock.store``."""

    __slots__ = ("claim", "runtime", "uow")

    def __init__(self, runtime: Runtime, claim: IdempotencyClaim | None) -> None:
        self.runtime = runtime
        self.claim = claim
        self.uow = partial(runtime.uow, claim=claim)


async def get_writes(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    idempotency_key: Annotated[
        str | None,
        Header(description="optional; a retry with the same key and body returns the first answer"),
    ] = None,
) -> Writes:
    if idempotency_key is None:
        return Writes(runtime, None)
    if not idempotency_key.strip() or len(idempotency_key) > MAX_KEY_LENGTH:
        raise InvalidValueError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    digest = request_hash(request.method, request.url.path, _canonical(await request.body()))
    claim = IdempotencyClaim(caller.shop_id, idempotency_key, digest)
    request.state.idempotency_claim = claim  # the middleware stores the answer
    return Writes(runtime, claim)


WritesDep = Annotated[Writes, Depends(get_writes)]
