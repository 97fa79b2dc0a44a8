"""Shops: sign-up in, the shop (and its owner key, once) out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import Name
from tierstock.policies import available_packs

PACKS = tuple(available_packs())


def _shipped_pack(name: str) -> str:
    if name not in PACKS:
        raise PydanticCustomError(
            "unknown_policy", "policy must be one of: {packs}", {"packs": ", ".join(PACKS)}
        )
    return name


# The packs shipped with tierstock, listed in the schema as the values it accepts.
PolicyName = Annotated[
    str,
    AfterValidator(_shipped_pack),
    WithJsonSchema({"type": "string", "enum": list(PACKS), "description": "policy pack name"}),
]


class ShopCreate(Strict):
    name: Name
    policy: PolicyName = Field("kuaishou")


class ShopPublic(Public):
    id: int
    name: str
    policy: str
    created_at: datetime


class ShopCreatedPublic(ShopPublic):
    api_key: str = Field(description="owner key: shown once, stored only as a digest")
