"""API keys of the caller's shop (owner only): create (shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, status

from tierstock.api.deps import KeyAdmin, KeyId, RuntimeDep, WritesDep
from tierstock.api.schemas.keys import KeyCreate, KeyCreatedPublic, KeyPublic
from tierstock.services import keys

router = APIRouter(prefix="/keys", tags=["keys"])


def _public(info: keys.ApiKeyInfo, caller: KeyAdmin) -> KeyPublic:
    return KeyPublic(
        id=info.id,
        role=info.role,
        label=info.label,
        created_at=info.created_at.astimezone(caller.zone),
        revoked_at=info.revoked_at.astimezone(caller.zone) if info.revoked_at else None,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreatedPublic)
def create_key(body: KeyCreate, caller: KeyAdmin, writes: WritesDep) -> KeyCreatedPublic:
    created = keys.create_key(
        keys.CreateKey(caller.shop_id, body.role, body.label, caller.actor, body.supplier_id),
        writes.uow(),
    )
    return KeyCreatedPublic(**_public(created.info, caller).model_dump(), api_key=created.api_key)


@router.get("", response_model=list[KeyPublic])
def list_keys(caller: KeyAdmin, runtime: RuntimeDep) -> list[KeyPublic]:
    return [_public(k, caller) for k in keys.list_keys(caller.shop_id, runtime.uow(readonly=True))]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: KeyId, caller: KeyAdmin, writes: WritesDep) -> None:
    keys.revoke_key(keys.RevokeKey(caller.shop_id, key_id, caller.actor), writes.uow())
