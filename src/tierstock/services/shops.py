"""Shops and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from tierstock.domain.catalogue import Shop
from tierstock.domain.errors import InvalidValueError, NotFoundError, UnauthorizedError
from tierstock.policies import available_packs, load_pack
from tierstock.store.catalogue_repo import ApiKeyOwner
from tierstock.store.uow import UnitOfWork

OWNER = "owner"


def hash_key(key: str) -> str:
    """Keys are stored only as digests; a key is 32 random bytes, so SHA-256 suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


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
    key = "ts_" + secrets.token_urlsafe(32)
    with uow:
        now = uow.now()
        shop = uow.catalogue.add_shop(cmd.name.strip(), cmd.policy, now)
        uow.catalogue.add_api_key(shop.id, hash_key(key), OWNER, "created with the shop", now)
        uow.commit()
    return ShopCreated(shop, key)


def authenticate(key: str, uow: UnitOfWork) -> ApiKeyOwner:
    with uow:
        owner = uow.catalogue.key_owner(hash_key(key))
    if owner is None:
        raise UnauthorizedError("unknown or revoked API key", field="X-API-Key")
    return owner


def get_shop(shop_id: int, uow: UnitOfWork) -> Shop:
    with uow:
        shop = uow.catalogue.get_shop(shop_id)
    if shop is None:
        raise NotFoundError(f"no shop {shop_id}", field="shop_id")
    return shop
