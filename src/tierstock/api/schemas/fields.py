"""Constrained field types shared by the request models of several resources."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, Strict, StringConstraints

from tierstock.domain.catalogue import ServicePromise
from tierstock.domain.sales_forms import Tier

# Text fields refuse NUL: PostgreSQL cannot store it, and no merchant means it.
NO_NUL = r"^[^\x00]*$"
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=NO_NUL)
]
SpecText = Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)]
SpecName = Annotated[str, StringConstraints(max_length=50, pattern=NO_NUL)]
Reason = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]
Label = Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)]
Quantity = Annotated[int, Field(ge=0, le=10_000_000)]
MAX_ID = 2**62  # ids are BIGINT; anything larger cannot name a row
RowId = Annotated[int, Field(gt=0, le=MAX_ID)]
PriceFen = Annotated[int, Field(gt=0, le=100_000_000_00)]

# Values JSON can only spell as strings. FastAPI validates bodies in pydantic's Python
# mode, where a strict model refuses "2026-11-26" for a date and "spot" for a Tier;
# these fields opt out of strict mode so the JSON spelling is accepted as before.
JSON_SPELLING = Strict(False)
IsoDate = Annotated[date, JSON_SPELLING]
IsoDateTime = Annotated[datetime, JSON_SPELLING]
TierValue = Annotated[Tier, JSON_SPELLING]
ServicePromiseValue = Annotated[ServicePromise, JSON_SPELLING]
