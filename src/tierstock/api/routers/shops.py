"""Shops: sign-up (returns the owner key once) and the caller's own shop."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, status

from tierstock.api import convert
from tierstock.api.deps import CallerDep, RuntimeDep
from tierstock.api.schemas.shops import ShopCreate, ShopCreatedPublic, ShopPublic
from tierstock.policies import load_pack
from tierstock.services import shops

router = APIRouter(prefix="/shops", tags=["shops"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ShopCreatedPublic)
def create_shop(body: ShopCreate, runtime: RuntimeDep) -> ShopCreatedPublic:
    created = shops.create_shop(shops.CreateShop(body.name, body.policy), runtime.uow())
    zone = ZoneInfo(load_pack(created.shop.policy).display_timezone)
    public = convert.shop(created.shop, zone)
    return ShopCreatedPublic(**public.model_dump(), api_key=created.api_key)


@router.get("/me", response_model=ShopPublic)
def my_shop(caller: CallerDep, runtime: RuntimeDep) -> ShopPublic:
    return convert.shop(shops.get_shop(caller.shop_id, runtime.uow(readonly=True)), caller.zone)
