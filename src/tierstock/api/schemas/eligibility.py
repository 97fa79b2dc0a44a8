"""Tiered-shipping eligibility: store scores in, the figures and the verdict out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import IsoDate

# strict=False: a Decimal arrives as a JSON number or string, never as a Decimal.
Score = Annotated[
    Decimal,
    Field(
        ge=0,
        max_digits=5,
        decimal_places=2,
        strict=False,
        description="store score (店铺分), e.g. 4.72",
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
