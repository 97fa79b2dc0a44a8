"""API keys: create (the key shown once), list and revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import Label, RowId


class KeyCreate(Strict):
    # supplier_id is for a supplier's key alone (services.keys refuses it on any other)
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"role": {"const": "supplier"}}},
                {"properties": {"supplier_id": {"type": "null"}}},
            ]
        }
    )

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
