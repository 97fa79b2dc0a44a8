"""API keys per shop and role: created (shown once), listed, revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tierstock.domain.access import Role
from tierstock.domain.errors import InvalidValueError, NotFoundError
from tierstock.services import audit
from tierstock.services.key_material import hash_key, new_key
from tierstock.services.shops import forget_key, get_shop_in
from tierstock.store.uow import UnitOfWork


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    role: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreateKey:
    shop_id: int
    role: str
    label: str = ""
    actor: str = "system"
    supplier_id: int | None = None  # role supplier: the supplier the key speaks for


@dataclass(frozen=True)
class KeyCreated:
    info: ApiKeyInfo
    api_key: str


def create_key(cmd: CreateKey, uow: UnitOfWork) -> KeyCreated:
    if cmd.role not in {r.value for r in Role}:
        raise InvalidValueError(
            f"role must be one of: {', '.join(r.value for r in Role)}", field="role"
        )
    if len(cmd.label) > 100:
        raise InvalidValueError("label must be at most 100 characters", field="label")
    if cmd.supplier_id is not None and cmd.role != Role.SUPPLIER.value:
        raise InvalidValueError("supplier_id is for keys with role supplier", field="supplier_id")
    key = new_key()
    with uow:
        get_shop_in(uow, cmd.shop_id)
        if (
            cmd.supplier_id is not None
            and uow.capacity.get_supplier(cmd.shop_id, cmd.supplier_id) is None
        ):
            raise NotFoundError(f"no supplier {cmd.supplier_id} in this shop", field="supplier_id")
        now = uow.now()
        key_id = uow.catalogue.add_api_key(
            cmd.shop_id, hash_key(key), cmd.role, cmd.label, now, cmd.supplier_id
        )
        audit.record(
            uow,
            cmd.shop_id,
            cmd.actor,
            "key.created",
            "api_key",
            key_id,
            {"role": cmd.role, "label": cmd.label, "supplier_id": cmd.supplier_id},
        )
        uow.commit()
    return KeyCreated(ApiKeyInfo(key_id, cmd.role, cmd.label, now, None), key)


def list_keys(shop_id: int, uow: UnitOfWork) -> list[ApiKeyInfo]:
    with uow:
        get_shop_in(uow, shop_id)
        return [
            ApiKeyInfo(r.id, r.role, r.label, r.created_at, r.revoked_at)
            for r in uow.audit.keys(shop_id)
        ]


@dataclass(frozen=True)
class RevokeKey:
    shop_id: int
    key_id: int
    actor: str = "system"


def revoke_key(cmd: RevokeKey, uow: UnitOfWork) -> None:
    """A revoked key stops working at once; its row stays for the audit trail."""
    with uow:
        if not uow.audit.revoke_key(cmd.shop_id, cmd.key_id, uow.now()):
            raise NotFoundError(f"no active key {cmd.key_id} in this shop", field="key_id")
        audit.record(uow, cmd.shop_id, cmd.actor, "key.revoked", "api_key", cmd.key_id, {})
        uow.commit()
    forget_key(cmd.key_id)
