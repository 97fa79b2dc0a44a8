"""API keys: create (the key shown once), list and revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import Label, RowId


class KeyCreate(Strict):
    role: Literal["owner", "operator", "warehouse", "supplier", "viewer"]
    label: Label = ""
    supplier_id: RowId | None = Field(None, description="role supplier: its supplier")


class KeyPublic(Public):
    id: int
    role: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreatedPublic(KeyPublic):
    api_key: str = Field(description="shown once; only its digest is stored")
