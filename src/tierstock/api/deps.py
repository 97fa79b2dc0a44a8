"""Dependencies every router shares: the runtime, the calling key, its permissions, and
idempotent units of work.

Every shop-scoped endpoint declares the permission it needs (``Reader``,
``CatalogueWriter`` …). The role is checked before any object is looked up, so a 403
never reveals whether an object exists; objects of another shop answer 404 because
every query is scoped to the key's shop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import anyio
from fastapi import Depends, Header, Path, Query, Request
from fastapi.openapi.models import APIKey, APIKeyIn
from fastapi.security.base import SecurityBase

from tierstock.api.schemas.fields import MAX_ID as MAX_ID  # the routers' bound too
from tierstock.api.schemas.fields import read_local_times_in
from tierstock.domain.access import ForbiddenError, Permission, Role, ensure_allowed
from tierstock.domain.errors import UnauthorizedError
from tierstock.domain.idempotency import IdempotencyClaim, request_hash
from tierstock.policies import load_pack
from tierstock.services import shops
from tierstock.services.runtime import Runtime

MAX_KEY_LENGTH = 200  # an Idempotency-Key's length (placing.order checks it for orders too)
MAX_OFFSET = 1_000_000

# Path and paging parameters, bounded so no value can overflow a database integer.
ShopId = Annotated[int, Path(ge=1, le=MAX_ID)]
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


API_KEY_HEADER = "X-API-Key"


class ApiKey(SecurityBase):
    """The shop's API key in the ``X-API-Key`` header, declared in the OpenAPI schema as
    the ``ApiKey`` security scheme (``apiKey`` in header), and the dependency that turns
    it into the :class:`Caller` — checking a permission, or that the key is the owner's.

    One flat dependency: FastAPI's per-request work grows with every nested ``Depends``,
    and this runs on every request. Missing and unknown keys are a 401 in the error shape.
    """

    def __init__(self, permission: Permission | None = None, *, owner_only: bool = False):
        self.model = APIKey.model_validate(
            {"in": APIKeyIn.header, "name": API_KEY_HEADER, "description": "the shop's API key"}
        )
        self.scheme_name = "ApiKey"
        self.permission = permission
        self.owner_only = owner_only

    async def __call__(self, request: Request) -> Caller:
        caller = await get_caller(request, request.headers.get(API_KEY_HEADER))
        if self.owner_only and caller.role != Role.OWNER.value:
            raise ForbiddenError(
                f"a key with role {caller.role!r} may not do this (the owner's alone)",
                field=API_KEY_HEADER,
            )
        if self.permission is not None:
            ensure_allowed(caller.role, self.permission)
        return caller


async def get_caller(request: Request, x_api_key: str | None) -> Caller:
    """The caller, from the key (cached). Times without an offset in this request's
    query and body are read in its shop's zone from here on."""
    runtime: Runtime = request.app.state.runtime
    if not x_api_key:
        raise UnauthorizedError(
            f"send the shop's API key in the {API_KEY_HEADER} header", field=API_KEY_HEADER
        )
    owner = shops.cached_owner(runtime.engine, x_api_key)
    if owner is None:  # a database read: off the event loop
        owner = await anyio.to_thread.run_sync(
            shops.authenticate, x_api_key, runtime.uow(readonly=True)
        )
    zone = ZoneInfo(load_pack(owner.policy).display_timezone)
    read_local_times_in(zone)
    return Caller(owner.shop_id, owner.role, owner.key_id, zone, owner.supplier_id)


CallerDep = Annotated[Caller, Depends(ApiKey())]
Reader = Annotated[Caller, Depends(ApiKey(Permission.READ))]
CatalogueWriter = Annotated[Caller, Depends(ApiKey(Permission.CATALOGUE))]
StockWriter = Annotated[Caller, Depends(ApiKey(Permission.STOCK))]
OrderWriter = Annotated[Caller, Depends(ApiKey(Permission.ORDERS))]
ShippingWriter = Annotated[Caller, Depends(ApiKey(Permission.SHIPPING))]
DelayWriter = Annotated[Caller, Depends(ApiKey(Permission.DELAYS))]
KeyAdmin = Annotated[Caller, Depends(ApiKey(Permission.KEYS))]
CapacityWriter = Annotated[Caller, Depends(ApiKey(Permission.CAPACITY))]
# The shop's owner alone, whatever the permissions: setting up a platform store hands
# tierstock the store's open-API secrets, and a drift repair writes to every store.
Owner = Annotated[Caller, Depends(ApiKey(owner_only=True))]


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


# The Idempotency-Key header as declared in the OpenAPI schema, bounds included, and
# checked by them: 1 to MAX_KEY_LENGTH characters, not only blanks.
_KEY_BOUNDS: dict[str, Any] = {
    "alias": "Idempotency-Key",
    "min_length": 1,
    "max_length": MAX_KEY_LENGTH,
    "pattern": r"\S",
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        description="optional; a retry with the same key and body returns the first answer",
        **_KEY_BOUNDS,
    ),
]
RequiredIdempotencyKey = Annotated[
    str,
    Header(
        description="one key per buyer payment; a retry with it returns the same answer",
        **_KEY_BOUNDS,
    ),
]


async def get_writes(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Writes:
    if idempotency_key is None:
        return Writes(runtime, None)
    digest = request_hash(request.method, request.url.path, _canonical(await request.body()))
    claim = IdempotencyClaim(caller.shop_id, idempotency_key, digest)
    request.state.idempotency_claim = claim  # the middleware stores the answer
    return Writes(runtime, claim)


WritesDep = Annotated[Writes, Depends(get_writes)]
