"""The shared field types of the API (api/schemas/fields.py): what they accept is exactly
what the patterns they publish in the OpenAPI schema admit, dates and times stay in the
years 2000–2100, and a time without an offset is the shop's local time."""

from __future__ import annotations

import contextvars
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tierstock.api.schemas.eligibility import ScoreCreate
from tierstock.api.schemas.fields import (
    BLANKS,
    DATE_PATTERN,
    DATETIME_PATTERN,
    DEFAULT_ZONE,
    MAX_YEAR,
    MIN_YEAR,
    IsoDate,
    IsoDateTime,
    Trimmed,
    read_local_times_in,
)

DATES: TypeAdapter[date] = TypeAdapter(IsoDate)
TIMES: TypeAdapter[datetime] = TypeAdapter(IsoDateTime)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def accepts(adapter: TypeAdapter[Any], value: object) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def admits(schema: dict[str, Any], value: object) -> bool:
    """What a JSON Schema validator (the one schemathesis uses) says of the value."""
    return bool(jsonschema_rs.validator_for(schema).is_valid(value))


# --- dates --------------------------------------------------------------------------------


def test_the_years_are_2000_to_2100_and_the_shops_zone_is_shanghai() -> None:
    assert (MIN_YEAR, MAX_YEAR) == (2000, 2100)
    assert DEFAULT_ZONE == SHANGHAI


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2000-01-01", True),
        ("2100-12-31", True),
        ("1999-12-31", False),
        ("2101-01-01", False),
        ("0001-01-01", False),
        ("9999-12-31", False),
        ("2024-02-29", True),
        ("2000-02-29", True),  # divisible by 400
        ("2100-02-29", False),  # divisible by 100 only
        ("2026-02-29", False),
        ("2026-04-31", False),
        ("2026-12-01T00:00:00", False),
        ("20261201", False),
        ("２０２６-12-01", False),  # full-width digits are digits to Python, not to JSON
        ("2026-12-01\n", False),
    ],
)
def test_a_date_is_yyyy_mm_dd_in_the_years(text: str, ok: bool) -> None:
    assert accepts(DATES, text) is ok
    assert admits(DATES.json_schema(), text) is ok
    assert bool(re.fullmatch(DATE_PATTERN.strip("^$"), text)) is ok


@given(st.dates())
def test_any_calendar_day_is_accepted_exactly_when_its_year_is_in_range(day: date) -> None:
    ok = MIN_YEAR <= day.year <= MAX_YEAR
    assert accepts(DATES, day.isoformat()) is ok
    assert admits(DATES.json_schema(), day.isoformat()) is ok


@given(st.text(alphabet="0123456789-T:+Z. ", max_size=25))
def test_the_date_pattern_and_the_server_agree_on_any_text(text: str) -> None:
    assert accepts(DATES, text) is admits(DATES.json_schema(), text)
    assert accepts(TIMES, text) is admits(TIMES.json_schema(), text)


@pytest.mark.parametrize("value", [0, 20261201, 1.5, True, None, [], {}, b"2026-12-01"])
def test_a_date_is_text_not_a_number_or_anything_else(value: object) -> None:
    assert not accepts(DATES, value)
    assert not accepts(TIMES, value)


def test_an_error_names_the_year_when_only_the_year_is_wrong() -> None:
    with pytest.raises(ValidationError, match="the year must be 2000 to 2100, not 9999"):
        DATES.validate_python("9999-12-31")
    with pytest.raises(ValidationError, match="the year must be 2000 to 2100, not 1"):
        TIMES.validate_python("0001-01-01T00:00:00Z")


# --- date-times ---------------------------------------------------------------------------


def test_a_time_with_an_offset_keeps_it() -> None:
    at = TIMES.validate_python("2026-12-01T20:00:00+09:00")
    assert at == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    assert TIMES.validate_python("2026-12-01T12:00Z") == datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_a_time_without_an_offset_is_the_shops_local_time() -> None:
    at = TIMES.validate_python("2026-12-01T20:00")
    assert at == datetime(2026, 12, 1, 20, 0, tzinfo=SHANGHAI)
    assert at.astimezone(UTC) == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert TIMES.validate_python("2026-12-01 20:00:00.5").microsecond == 500_000


def test_a_plain_date_is_the_start_of_that_day_in_the_shops_zone() -> None:
    at = TIMES.validate_python("2026-12-01")
    assert at == datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)
    assert at.astimezone(UTC) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def test_local_times_follow_the_zone_of_the_calling_shop() -> None:
    def in_tokyo() -> datetime:
        read_local_times_in(ZoneInfo("Asia/Tokyo"))
        return TIMES.validate_python("2026-12-01T09:00")

    at = contextvars.copy_context().run(in_tokyo)  # as one request would
    assert at.astimezone(UTC) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert TIMES.validate_python("2026-12-01T09:00").tzinfo == SHANGHAI  # others unchanged


_OFFSETS = st.sampled_from(["", "Z", "+08:00", "-05:30", "+23:59", "-23:59", "+00:00"])


@given(st.datetimes(), st.sampled_from(["T", " "]), _OFFSETS)
def test_any_time_is_accepted_exactly_when_its_year_is_in_range(
    at: datetime, sep: str, offset: str
) -> None:
    text = at.isoformat(sep=sep) + offset
    ok = MIN_YEAR <= at.year <= MAX_YEAR
    assert accepts(TIMES, text) is ok
    assert admits(TIMES.json_schema(), text) is ok
    if ok:
        got = TIMES.validate_python(text)
        assert got.tzinfo is not None
        assert got.replace(tzinfo=None) == at


def test_the_far_ends_of_the_range_convert_to_utc_without_overflow() -> None:
    for text in ("2100-12-31T23:59:59.999999-23:59", "2000-01-01T00:00:00+23:59"):
        at = TIMES.validate_python(text)
        assert at.astimezone(UTC) + timedelta(days=400) > at  # room for any deadline
    assert re.fullmatch(DATETIME_PATTERN.strip("^$"), "2026-12-01T20:00")


def test_python_callers_may_pass_dates_and_times_in_range() -> None:
    assert DATES.validate_python(date(2026, 12, 1)) == date(2026, 12, 1)
    assert not accepts(DATES, date(1, 1, 1))
    naive = TIMES.validate_python(datetime(2026, 12, 1, 20))
    assert naive.tzinfo == SHANGHAI
    aware = datetime(2026, 12, 1, 20, tzinfo=timezone(timedelta(hours=-3)))
    assert TIMES.validate_python(aware) == aware
    assert not accepts(TIMES, datetime(9999, 12, 31, tzinfo=UTC))
    assert TIMES.validate_python(datetime.combine(date(2026, 12, 1), time())).tzinfo == SHANGHAI


# --- trimmed text -------------------------------------------------------------------------

NAME: TypeAdapter[str] = TypeAdapter(Annotated[str, Trimmed(1, 5)])
NOTE: TypeAdapter[str] = TypeAdapter(Annotated[str, Trimmed(0, 3)])
_BLANK_CHARS = st.sampled_from(BLANKS)
_TEXTS = st.lists(
    st.one_of(_BLANK_CHARS, st.characters(codec="utf-8"), st.sampled_from("ab\x00\x1c")),
    max_size=9,
).map("".join)


@pytest.mark.parametrize(
    ("text", "name", "note"),
    [
        ("x", "x", "x"),
        ("  连衣裙\u3000", "连衣裙", "连衣裙"),
        (" ", None, ""),
        ("", None, ""),
        ("abcde ", "abcde", None),
        ("abcdef", None, None),
        ("a\x00", None, None),
        ("\ufeffab\t", "ab", "ab"),
        ("a  b", "a  b", None),
    ],
)
def test_trimmed_text_drops_blanks_at_either_end_then_counts(
    text: str, name: str | None, note: str | None
) -> None:
    for adapter, want in ((NAME, name), (NOTE, note)):
        if want is None:
            assert not accepts(adapter, text)
        else:
            assert adapter.validate_python(text) == want
        assert admits(adapter.json_schema(), text) is (want is not None)


@given(_TEXTS)
def test_trimmed_text_and_its_pattern_agree_on_any_text(text: str) -> None:
    for adapter in (NAME, NOTE):
        assert accepts(adapter, text) is admits(adapter.json_schema(), text), repr(text)


def test_trimmed_text_refuses_what_is_not_text() -> None:
    for value in (1, True, None, ["x"]):
        assert not accepts(NAME, value)


# --- store scores -------------------------------------------------------------------------

SCORE = ScoreCreate.model_json_schema()["properties"]["score"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (4.72, True),
        ("4.72", True),
        (5, True),
        (0, True),
        (999.99, True),
        (1000, False),
        (4.725, False),
        ("4.725", False),
        ("", False),
        (-0.01, False),
        (True, False),
        ("4.", False),
        (1e-7, False),
    ],
)
def test_a_store_score_is_what_its_schema_says(value: object, ok: bool) -> None:
    body = {"scored_on": "2026-11-30", "score": value}
    assert accepts(TypeAdapter(ScoreCreate), body) is ok
    assert admits(SCORE, value) is ok
    if ok:
        assert ScoreCreate.model_validate(body).score == Decimal(str(value))
