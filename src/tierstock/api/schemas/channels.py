"""Channels: platform stores, SKU links, quota rules, safety stock, the live lock, oversell
incidents and drift repair (docs/rules.md §10; services/channels/).

A store's credentials go in once (``ChannelCreate.credentials``) and never come out:
every response names the credential fields a store holds, never a value."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import JSON_SPELLING, NO_NUL, Name, Quantity, RowId, Trimmed
from tierstock.domain.channels import Platform

PlatformValue = Annotated[Platform, JSON_SPELLING]
ServerUrl = Annotated[
    str, StringConstraints(max_length=300, pattern=r"^https?://[^\s\x00/?#]+(/[^\s\x00]*)?$")
]
CredentialName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
CredentialValue = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NO_NUL)]
PlatformRef = Annotated[str, Trimmed(1, 100)]


class ChannelCreate(Strict):
    platform: PlatformValue = Field(description="kuaishou, douyin, taobao or own")
    name: Name
    server_url: ServerUrl | None = Field(
        None, description="the platform's open-API gateway; absent: the platform's own"
    )
    credentials: dict[CredentialName, CredentialValue] = Field(
        {},
        max_length=10,
        json_schema_extra={"additionalProperties": False},  # names other than the pattern's
        description="the store's open-API credentials by field (kuaishou: app_key, "
        "sign_secret, access_token; douyin: app_key, app_secret, access_token; taobao: "
        "app_key, app_secret, session; own: none). Sealed at rest, never returned.",
    )


class ChannelPublic(Public):
    id: int
    platform: str
    name: str
    live: bool = Field(description="holds the live lock now")
    credential_fields: list[str] = Field(
        description="the credential fields the store holds (never their values)"
    )


class ChannelStatusPublic(ChannelPublic):
    links: int
    synced_until: datetime | None = Field(description="every order changed before is recorded")
    platform_orders: int
    queued_pushes: int
    drifted_links: int = Field(description="links whose store last showed another figure")
    open_incidents: int
    exposure_fen: int = Field(description="what the open incidents may cost")
    exposure_yuan: str


class LinkCreate(Strict):
    sku_id: RowId
    platform_item_id: PlatformRef
    platform_sku_id: PlatformRef


class LinkPublic(Public):
    id: int
    channel_id: int
    sku_id: int
    platform_item_id: str
    platform_sku_id: str


class RuleUpdate(Strict):
    kind: Literal["share", "fixed"] | None = Field(
        description="share: a percentage of the pool after safety stock; fixed: units; "
        "null: no rule (the store shows the whole pool)"
    )
    value: Quantity = 0


class RulePublic(Public):
    sku_id: int
    channel_id: int
    kind: str | None
    value: int | None


class SafetyStockUpdate(Strict):
    units: Quantity = Field(description="units of every tier no platform store shows")


class SafetyStockPublic(Public):
    sku_id: int
    units: int


class LiveLockCreate(Strict):
    channel_id: RowId = Field(description="the platform store running the live session")
    sku_ids: list[RowId] = Field(min_length=1, max_length=1000)


class LiveLockPublic(Public):
    channel_id: int
    sku_ids: list[int]


class IncidentPublic(Public):
    id: int
    channel_id: int
    platform_order_id: str
    sku_id: int
    quantity: int
    paid_fen: int
    paid_yuan: str
    exposure_fen: int
    exposure_yuan: str
    promised_ship_by: datetime | None
    created_at: datetime
    resolved_at: datetime | None


class DriftPublic(Public):
    channel: str
    link_id: int
    sku_id: int
    shown: int | None = Field(description="what the store showed (null: it could not be read)")
    quota: int
    repaired: bool
    error: str


class ReconcilePublic(Public):
    dry_run: bool
    drifts: list[DriftPublic]
