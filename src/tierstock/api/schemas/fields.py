"""Constrained field types shared by the request models of several resources."""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from tierstock.domain.catalogue import ServicePromise
from tierstock.domain.sales_forms import Tier

# Text fields refuse NUL: PostgreSQL cannot store it, and no merchant means it.
NO_NUL = r"^[^\x00]*$"

# Blanks a trimmed text drops at either end: Unicode's White_Space and the BOM, spelled
# out once so the server and the schema's pattern agree on every character.
BLANKS = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
BLANKS += "\u2028\u2029\u202f\u205f\u3000\ufeff"


def _class_body(chars: str) -> str:
    """A regex character class body naming ``chars``, as ``\\uHHHH`` and ranges of them."""
    codes, out = sorted(map(ord, chars)), []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code != prev + 1:
            out.append(f"\\u{start:04x}" + (f"-\\u{prev:04x}" if prev > start else ""))
            start = code
        prev = code
    return "".join(out)


_BLANK = _class_body(BLANKS)


@dataclass(frozen=True)
class Trimmed:
    """Text with the blanks at either end dropped, then ``min_length`` (0 or 1) to
    ``max_length`` characters long, never NUL. The OpenAPI schema gets a pattern that
    admits exactly what this accepts (pydantic's ``strip_whitespace`` with a length
    cannot: its ``maxLength`` counts the blanks it drops, its ``minLength`` does not)."""

    min_length: int
    max_length: int

    @property
    def pattern(self) -> str:
        edge, inner = f"[^{_BLANK}\\u0000]", "[^\\u0000]"
        core = (
            edge if self.max_length == 1 else f"{edge}(?:{inner}{{0,{self.max_length - 2}}}{edge})?"
        )
        if self.min_length == 0:
            core = f"(?:{core})?"
        return f"^[{_BLANK}]*{core}[{_BLANK}]*$"

    def validate(self, value: Any) -> str:
        if not isinstance(value, str):
            raise PydanticCustomError("string_type", "give a text")
        if "\x00" in value:
            raise PydanticCustomError("text_nul", "a text cannot hold the NUL character")
        text = value.strip(BLANKS)
        if not self.min_length <= len(text) <= self.max_length:
            raise PydanticCustomError(
                "text_length",
                "give {min} to {max} characters (blanks at either end do not count)",
                {"min": self.min_length, "max": self.max_length},
            )
        return text

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": self.pattern}


Name = Annotated[str, Trimmed(1, 200)]
Code = Annotated[str, Trimmed(1, 64)]
SpecText = Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)]
SpecName = Annotated[str, StringConstraints(max_length=50, pattern=NO_NUL)]
Reason = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]
Label = Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)]
Quantity = Annotated[int, Field(ge=0, le=10_000_000)]
# Ids are BIGINT, but a JSON number above 2**53 is read inexactly by many (JavaScript,
# JSON Schema validators): no row ever gets an id that large, so none is accepted.
MAX_ID = 2**53 - 1
RowId = Annotated[int, Field(gt=0, le=MAX_ID)]
PriceFen = Annotated[int, Field(gt=0, le=100_000_000_00)]

# Values JSON can only spell as strings. FastAPI validates bodies in pydantic's Python
# mode, where a strict model refuses "spot" for a Tier; these fields opt out of strict
# mode so the JSON spelling is accepted.
JSON_SPELLING = Strict(False)
TierValue = Annotated[Tier, JSON_SPELLING]
ServicePromiseValue = Annotated[ServicePromise, JSON_SPELLING]


# --- dates and times -----------------------------------------------------------------------
# Every date and time the API accepts — in a body or a query — lies in the years
# MIN_YEAR..MAX_YEAR. Anything else is a typo or a probe, and the far ends of the calendar
# overflow once a deadline is computed from them (9999-12-31 plus a presale window).
MIN_YEAR = 2000
MAX_YEAR = 2100
YEARS = f"{MIN_YEAR}–{MAX_YEAR}"

# A time without an offset is the shop's local time, a plain date the start of that day
# there: in the display zone of the calling key's shop (deps.get_caller sets it for the
# request); before any key is read, the zone every pack uses.
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
_local_zone: ContextVar[ZoneInfo] = ContextVar("tierstock_local_zone", default=DEFAULT_ZONE)


def read_local_times_in(zone: ZoneInfo) -> None:
    """Times without an offset in this request are local times of ``zone``."""
    _local_zone.set(zone)


# The accepted spellings as patterns, so the OpenAPI schema says exactly what is accepted
# (ASCII digits only; the day fits its month, 29 February only in leap years). They spell
# out the years MIN_YEAR..MAX_YEAR (tests/unit/test_api_fields.py holds them together).
_YEAR = "(?:20[0-9]{2}|2100)"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP_DAY = "20(?:[02468][048]|[13579][26])-02-29"  # 2000, 2004 … 2096; 2100 is no leap year
_DAY = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
_OFFSET = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
DATE_PATTERN = f"^{_DAY}$"
DATETIME_PATTERN = f"^{_DAY}(?:[T ]{_TIME}{_OFFSET}?)?$"
_DATE_RE = re.compile(_DAY)
_DATETIME_RE = re.compile(f"{_DAY}(?:[T ]{_TIME}{_OFFSET}?)?")
_ANY_DATE_RE = re.compile(r"(-?[0-9]+)-[0-9]{2}-[0-9]{2}")  # to name a year out of range

DATE_HELP = f"a date YYYY-MM-DD in the years {YEARS}"
DATETIME_HELP = (
    f"a date and time in the years {YEARS}, ISO 8601: 2026-12-01T20:00:00+08:00; without "
    f"an offset (2026-12-01T20:00) the shop's local time ({DEFAULT_ZONE.key}), a plain "
    "date (2026-12-01) the start of that day there"
)


def _out_of_range(year: int) -> PydanticCustomError:
    return PydanticCustomError(
        "date_out_of_range",
        "the year must be {min_year} to {max_year}, not {year}",
        {"min_year": MIN_YEAR, "max_year": MAX_YEAR, "year": year},
    )


def _refuse(value: object, help_text: str) -> PydanticCustomError:
    """Name the year when it alone is wrong; otherwise say what to give."""
    if isinstance(value, str) and (m := _ANY_DATE_RE.match(value)):
        year = int(m.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            return _out_of_range(year)
    return PydanticCustomError("date_format", "give {help}", {"help": help_text})


def parse_date(value: Any) -> date:
    """A request's date: the string YYYY-MM-DD (a ``date`` from Python code), in range."""
    if isinstance(value, str):
        if not _DATE_RE.fullmatch(value):
            raise _refuse(value, DATE_HELP)
        return date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise _out_of_range(value.year)
        return value
    raise _refuse(value, DATE_HELP)


def parse_datetime(value: Any) -> datetime:
    """A request's time, always with a zone: an offset as given; none, the shop's local
    time; a plain date, the start of that day in the shop's zone."""
    if isinstance(value, str):
        if not _DATETIME_RE.fullmatch(value):
            raise _refuse(value, DATETIME_HELP)
        at = datetime.fromisoformat(value)
    elif isinstance(value, datetime):
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise _out_of_range(value.year)
        at = value
    else:
        raise _refuse(value, DATETIME_HELP)
    return at if at.tzinfo is not None else at.replace(tzinfo=_local_zone.get())


IsoDate = Annotated[
    date,
    PlainValidator(parse_date),
    WithJsonSchema(
        {"type": "string", "format": "date", "pattern": DATE_PATTERN, "description": DATE_HELP}
    ),
]
IsoDateTime = Annotated[
    datetime,
    PlainValidator(parse_datetime),
    WithJsonSchema({"type": "string", "pattern": DATETIME_PATTERN, "description": DATETIME_HELP}),
]
