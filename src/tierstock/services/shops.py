"""Shops and their API keys."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tierstock.domain.access import ApiKeyOwner
from tierstock.domain.catalogue import Shop
from tierstock.domain.errors import InvalidValueError, NotFoundError, UnauthorizedError
from tierstock.policies import available_packs, load_pack
from tierstock.services.key_material import hash_key, new_key
from tierstock.store.uow import UnitOfWork

OWNER = "owner"


@dataclass(frozen=True)
class CreateShop:
    name: str
    policy: str = "kuaishou"


@dataclass(frozen=True)
class ShopCreated:
    shop: Shop
    api_key: str


def create_shop(cmd: CreateShop, uow: UnitOfWork) -> ShopCreated:
    """Create a shop with its policy pack and an owner key (shown once, stored hashed)."""
    if not cmd.name.strip():
        raise InvalidValueError("shop name must not be empty", field="name")
    if cmd.policy not in available_packs():
        raise InvalidValueError(
            f"policy must be one of: {', '.join(available_packs())}", field="policy"
        )
    load_pack(cmd.policy)
    key = new_key()
    with uow:
        now = uow.now()
        shop = uow.catalogue.add_shop(cmd.name.strip(), cmd.policy, now)
        uow.catalogue.add_api_key(shop.id, hash_key(key), OWNER, "created with the shop", now)
        uow.commit()
    return ShopCreated(shop, key)


# Every request authenticates; a key's owner is kept for a moment so a burst of
# orders does not pay a read transaction each. Revoking in this process drops the
# entry at once; other server processes notice within AUTH_CACHE_SECONDS.
AUTH_CACHE_SECONDS = 2.0
_AUTH_CACHE: dict[tuple[object, str], tuple[float, ApiKeyOwner]] = {}


def forget_key(key_id: int) -> None:
    for cache_key, (_, owner) in list(_AUTH_CACHE.items()):
        if owner.key_id == key_id:
            _AUTH_CACHE.pop(cache_key, None)


def authenticate(key: str, uow: UnitOfWork) -> ApiKeyOwner:
    return authenticate_digest(hash_key(key), uow)


def cached_owner(engine: object, key: str) -> ApiKeyOwner | None:
    """The key's owner if the cache still holds it — no I/O, so the API can check it
    on its event loop and only go to a thread (and the database) on a miss."""
    return _cached(engine, hash_key(key))


def _cached(engine: object, digest: str) -> ApiKeyOwner | None:
    cached = _AUTH_CACHE.get((engine, digest))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    return None


def authenticate_digest(digest: str, uow: UnitOfWork) -> ApiKeyOwner:
    """The owner of the key with this digest (what the workbench's cookie keeps), via
    the same short cache as every API request."""
    cached = _cached(uow.engine, digest)
    if cached is not None:
        return cached
    with uow:
        owner = uow.catalogue.key_owner(digest)
    if owner is None:
        raise UnauthorizedError("unknown or revoked API key", field="X-API-Key")
    _AUTH_CACHE[(uow.engine, digest)] = (time.monotonic() + AUTH_CACHE_SECONDS, owner)
    return owner


def get_shop_in(uow: UnitOfWork, shop_id: int) -> Shop:
    """The shop, inside an open unit of work, or NotFoundError."""
    shop = uow.catalogue.get_shop(shop_id)
    if shop is None:
        raise NotFoundError(f"no shop {shop_id}", field="shop_id")
    return shop


def get_shop(shop_id: int, uow: UnitOfWork) -> Shop:
    with uow:
        return get_shop_in(uow, shop_id)
