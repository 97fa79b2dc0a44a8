"""The one error body every refusal answers with (``{"error", "field", "message"}``)."""

from __future__ import annotations

from pydantic import Field

from tierstock.api.schemas.base import Public


class ErrorPublic(Public):
    error: str = Field(description="stable machine-readable code")
    field: str | None = Field(description="the input the rule concerns")
    message: str = Field(description="what was wrong, for a person")
