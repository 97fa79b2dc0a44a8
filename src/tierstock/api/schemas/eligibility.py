"""Tiered-shipping eligibility: store scores in, the figures and the verdict out."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import IsoDate

MAX_SCORE = Decimal("999.99")  # five digits, two of them decimals
_SCORE_TEXT = r"[0-9]{1,3}(?:\.[0-9]{1,2})?"
_SCORE_RE = re.compile(_SCORE_TEXT)
_CENT = Decimal("0.01")


def _score(value: Any) -> Decimal:
    """A store score as a JSON number (4.72) or string ("4.72"): 0 to 999.99, at most
    two decimals — exactly what the schema below says."""
    if isinstance(value, str) and _SCORE_RE.fullmatch(value):
        return Decimal(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        score = Decimal(repr(value))  # the number as JSON spelled it
        if 0 <= score <= MAX_SCORE and score == score.quantize(_CENT):
            return score
    raise PydanticCustomError(
        "score", "a store score is 0 to {max}, with at most two decimals", {"max": MAX_SCORE}
    )


Score = Annotated[
    Decimal,
    PlainValidator(_score),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 999.99, "multipleOf": 0.01},
                {"type": "string", "pattern": f"^{_SCORE_TEXT}$"},
            ],
            "description": "store score (店铺分), e.g. 4.72",
        }
    ),
]


class ScoreCreate(Strict):
    scored_on: IsoDate
    score: Score


class ScoresCreate(Strict):
    data: list[ScoreCreate] = Field(min_length=1, max_length=3660)


class ScoresRecordedPublic(Public):
    recorded: int


class ScorePublic(Public):
    scored_on: date
    score: str


class SharePublic(Public):
    until: date
    spot_lines: int
    paid_lines: int
    share_percent: str


class ProductPullPublic(Public):
    product_id: int
    name: str
    presale_lines: int
    paid_lines: int


class NonCompliantSkuPublic(Public):
    sku_id: int
    code: str
    product_id: int
    product_name: str
    reason: str


class EligibilityPublic(Public):
    shop_id: int
    as_of: datetime
    eligible: bool
    reasons: list[str]
    store_score: str
    min_store_score: str
    spot_share_percent: str
    spot_lines: int
    paid_lines: int
    min_spot_share_percent: str
    window_days: int
    min_paid_lines: int
    score_trend: list[ScorePublic]
    share_trend: list[SharePublic]
    pulling_products: list[ProductPullPublic]
    non_compliant_skus: list[NonCompliantSkuPublic]
