"""Shops: sign-up in, the shop (and its owner key, once) out."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import NO_NUL, Name


class ShopCreate(Strict):
    name: Name
    policy: str = Field("kuaishou", max_length=40, pattern=NO_NUL, description="policy pack name")


class ShopPublic(Public):
    id: int
    name: str
    policy: str
    created_at: datetime


class ShopCreatedPublic(ShopPublic):
    api_key: str = Field(description="owner key: shown once, stored only as a digest")
