"""The hot path's hand-made values equal what the slower general code produces: the
raw driver's datetimes (store/sql/driver.utc_text) and the request hash."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from tierstock.domain.orders import LineRequest
from tierstock.services.placing import PlaceOrder
from tierstock.store.sql.driver import utc_text
from tierstock.store.types import UTCDateTime

MOMENTS = [
    datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
    datetime(2026, 11, 26, 2, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 11, 26, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=8))),
    datetime(1999, 12, 31, 20, 30, tzinfo=timezone(timedelta(hours=-5))),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_utc_text_is_what_sqlalchemy_stores_on_sqlite(moment: datetime) -> None:
    dialect = sqlite.dialect()
    stored = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert stored is not None
    assert utc_text(moment) == stored(moment)


@pytest.mark.parametrize("moment", MOMENTS)
def test_utc_text_reads_back_as_the_same_instant(moment: datetime) -> None:
    assert datetime.fromisoformat(utc_text(moment)).replace(tzinfo=UTC) == moment


def test_utc_text_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        utc_text(datetime(2026, 11, 26, 2, 0))


def _json_hash(cmd: PlaceOrder) -> str:
    body = {"buyer": cmd.buyer, "lines": [[ln.sku_id, ln.quantity] for ln in cmd.lines]}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize(
    "buyer", [None, "buyer-1", "小红", 'quo"te\\back', "tab\tnl\n\x00", "emoji 🎉", ""]
)
@pytest.mark.parametrize("lines", [((7, 1),), ((7, 2), (3, 1)), ((10**12, 999),)])
def test_the_request_hash_is_the_sha256_of_the_sorted_json_body(
    buyer: str | None, lines: tuple[tuple[int, int], ...]
) -> None:
    cmd = PlaceOrder(1, "k", tuple(LineRequest(s, q) for s, q in lines), buyer=buyer)
    assert cmd.request_hash() == _json_hash(cmd)


def test_unusual_values_in_a_request_still_hash_like_json_dumps() -> None:
    odd = PlaceOrder(1, "k", (LineRequest(True, 1),), buyer=None)
    assert odd.request_hash() == _json_hash(odd)
    assert odd.request_hash() != PlaceOrder(1, "k", (LineRequest(1, 1),)).request_hash()
