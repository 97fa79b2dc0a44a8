"""Extreme values in every date and number field of the API never make the server fail.

The fields come from the running server's OpenAPI schema — every integer, number, date
and date-time in a request body, a query or a path — so a new field is covered without
touching this test. Each field gets a bounded hypothesis run: year 1, year 9999 and
beyond, the bounds of int64 and past them, negative numbers, 0, floats where integers
are expected, booleans, strings and null; the rest of the request is a minimal valid one
naming real objects (a listed SKU, its confirmed batch, an order …) so a value that is
accepted goes all the way through. Every answer is a 2xx or a 4xx in the error shape;
after an accepted write the pages that show what it changed (the card, the order,
capacity, promises, the audit trail) are read back and must not fail either — a date
accepted at the edge of the calendar used to break every later read.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import ERROR_KEYS, Api, ShopClient, assert_error
from tierstock.api.schemas.fields import DATETIME_PATTERN

GENERATED_PER_FIELD = 3  # drawn values per field, besides the explicit ones below
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# explicit cases each field of a kind gets, every run
EXTREMES: dict[str, list[Any]] = {
    "integer": [INT64_MAX, INT64_MIN, 2**64, -1, 0, 1.0, True],
    "number": [1e308, -1e308, INT64_MAX, -1, 0, True],
    "date": ["0001-01-01", "9999-12-31", "2100-12-31", "1999-12-31", "2026-12-01T00:00:00", 0],
    "datetime": [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999-23:59",
        "2100-12-31T23:59:59-23:59",
        "2000-01-01T00:00:00+23:59",
        "2026-12-01",
        "2026-12-01T00:00:00",
        INT64_MAX,
    ],
}
_OTHER_TYPES: st.SearchStrategy[Any] = st.sampled_from(
    [True, False, None, "", "1", [], {}, 1.5, -0.0, 5e-324]
)
_HUGE_INTS = st.one_of(
    st.integers(min_value=INT64_MAX - 2, max_value=2**70),
    st.integers(min_value=-(2**70), max_value=INT64_MIN + 2),
)
_ANY_DAY = st.dates().map(date.isoformat)
_ANY_YEAR = st.integers(min_value=-99_999, max_value=99_999).map(lambda y: f"{y:04d}-12-31")


def values_for(kind: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Extreme values for a field of this kind, around its own bounds too."""
    if kind in ("integer", "number"):
        edges = [
            schema.get(k) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        ]
        near = [int(e) + d for e in edges if e is not None for d in (-1, 0, 1)]
        numbers = st.one_of(
            st.sampled_from([*near, 0, -1, 1]) if near else st.just(0),
            _HUGE_INTS,
            st.floats(allow_nan=False, allow_infinity=False),
        )
        return st.one_of(numbers, _OTHER_TYPES)
    days = st.one_of(_ANY_DAY, _ANY_YEAR)
    if kind == "datetime":
        offsets = st.sampled_from(["", "Z", "+23:59", "-23:59", "+08:00"])
        days = st.one_of(
            days,
            st.tuples(days, st.times().map(lambda t: t.isoformat()), offsets).map(
                lambda p: f"{p[0]}T{p[1]}{p[2]}"
            ),
        )
    return st.one_of(days, _HUGE_INTS, _OTHER_TYPES)


# --- the fields, from the OpenAPI schema -------------------------------------------------

Step = tuple[str, Any]  # ("prop", name) | ("item", None) | ("branch", index)


@dataclass(frozen=True)
class Field:
    method: str
    path: str
    location: str  # body, query or path
    steps: tuple[Step, ...]  # body: where the field is; query/path: (("prop", name),)
    kind: str  # integer, number, date or datetime
    schema: dict[str, Any]

    @property
    def label(self) -> str:
        where = ".".join(str(s[1]) for s in self.steps if s[0] == "prop")
        return f"{self.method.upper()} {self.path} {self.location}:{where}"


class Schema:
    def __init__(self, openapi: dict[str, Any]) -> None:
        self.openapi = openapi

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.openapi["components"]["schemas"][name]
        return schema

    def kind(self, schema: dict[str, Any]) -> str | None:
        if schema.get("type") in ("integer", "number"):
            return str(schema["type"])
        if schema.get("type") == "string":
            if schema.get("format") == "date":
                return "date"
            if schema.get("format") == "date-time" or schema.get("pattern") == DATETIME_PATTERN:
                return "datetime"
        return None

    @staticmethod
    def branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
        """The alternatives of a union (not an object's anyOf of required fields)."""
        if "properties" in schema or "type" in schema:
            return []
        return [b for b in schema.get("anyOf", schema.get("oneOf", [])) if b != {"type": "null"}]

    def walk(self, schema: dict[str, Any], steps: tuple[Step, ...] = ()) -> Iterator[Any]:
        schema = self.resolve(schema)
        for i, branch in enumerate(self.branches(schema)):
            yield from self.walk(branch, (*steps, ("branch", i)))
        if (kind := self.kind(schema)) is not None:
            yield steps, kind, schema
        elif schema.get("type") == "array" and "items" in schema:
            yield from self.walk(schema["items"], (*steps, ("item", None)))
        for name, prop in schema.get("properties", {}).items():
            yield from self.walk(prop, (*steps, ("prop", name)))

    def fields(self) -> list[Field]:
        found = []
        for path, operations in self.openapi["paths"].items():
            for method, op in operations.items():
                for p in op.get("parameters", []):
                    if p["in"] in ("query", "path"):
                        for _, kind, schema in self.walk(p["schema"]):
                            step = (("prop", p["name"]),)
                            found.append(Field(method, path, p["in"], step, kind, schema))
                body = op.get("requestBody", {}).get("content", {}).get("application/json")
                if body is not None:
                    for steps, kind, schema in self.walk(body["schema"]):
                        found.append(Field(method, path, "body", steps, kind, schema))
        return found

    # a minimal valid request around the field -------------------------------------------
    def minimal(self, schema: dict[str, Any], name: str, ids: dict[str, Any]) -> Any:
        schema = self.resolve(schema)
        if branches := self.branches(schema):
            return self.minimal(branches[0], name, ids)
        if "const" in schema:
            return schema["const"]
        hint = HINTS.get(name)
        if "enum" in schema:
            return hint if hint in schema["enum"] else schema["enum"][0]
        kind, kind_of = schema.get("type"), self.kind(schema)
        if name in ids:
            return ids[name]
        if hint is not None:
            return hint() if callable(hint) else hint
        if kind_of == "date":
            return (date.today() + timedelta(days=10)).isoformat()
        if kind_of == "datetime":
            return (date.today() + timedelta(days=10)).isoformat() + "T12:00:00+08:00"
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
            return int(max(low, 1)) if kind == "integer" else max(low, 1)
        if kind == "boolean":
            return False
        if kind == "string":
            text = "x" * max(1, schema.get("minLength", 1))
            pattern = schema.get("pattern")
            assert pattern is None or re.search(pattern, text), (name, pattern)
            return text
        if kind == "array":
            return [self.minimal(schema["items"], name, ids)] * schema.get("minItems", 0)
        required = set(schema.get("required", []))
        for constraint in schema.get("anyOf", [])[:1]:  # e.g. "sku_id or sales_form"
            required |= set(constraint.get("required", []))
        props = schema.get("properties", {})
        wanted = [k for k in props if k in required or k in HINTS]  # hints: rules of the pack
        return {k: self.minimal(props[k], k, ids) for k in wanted}

    def body(self, schema: dict[str, Any], steps: tuple[Step, ...], value: Any, ids: Any) -> Any:
        schema = self.resolve(schema)
        if not steps:
            return value
        (step, arg), rest = steps[0], steps[1:]
        if step == "branch":
            return self.body(self.branches(schema)[arg], rest, value, ids)
        if step == "item":
            return [self.body(schema["items"], rest, value, ids)]
        whole = self.minimal(schema, "", ids)
        whole[arg] = self.body(schema["properties"][arg], rest, value, ids)
        return whole


# values the schema cannot tell are the sensible ones (rules of the pack and of the
# domain), so a request gets past them to the field under test
HINTS: dict[str, Any] = {
    "spot_window_hours": 48,
    "presale_days": 5,
    "platform": "own",
    "role": "viewer",
    "price_fen": 19_900,
    "kind": "delayed",
    "reason": "极端值测试",
    "buyers": 20,
    "code": lambda: f"X-{uuid.uuid4().hex[:8]}",
    "supplier": "义乌工厂",
    "delivery_note": lambda: f"DN-{uuid.uuid4().hex[:8]}",
}
# what changes the shared objects for good (a shipment, a cancel, a revoked key) goes last
LAST = ("shipment", "cancel", "decline", "receive", "unshippable", "/keys/")


# --- the server, with real objects to name --------------------------------------------


@pytest.fixture(scope="session")
def target(server_url: str) -> dict[str, Any]:
    return seed(server_url)


def seed(server_url: str) -> dict[str, Any]:
    """A shop with one of everything a request can name, and the schema."""
    api = Api(server_url)
    shop = api.new_shop("极端值小店")
    sku = shop.listed_sku(spot=50, presale=0)
    ready = (date.today() + timedelta(days=10)).isoformat()
    supplier = shop.post("/suppliers", json={"name": "义乌工厂"}).json()
    batches = shop.post(
        f"/skus/{sku['id']}/capacity",
        json={"supplier_id": supplier["id"], "batches": [{"quantity": 20, "ready_on": ready}]},
    ).json()
    shop.post(f"/capacity/{batches[0]['id']}/confirm")
    order = shop.order([(sku["id"], 1)]).json()
    count = shop.post("/counts", json={"sku_ids": [sku["id"]]}).json()
    spare_key = shop.post("/keys", json={"role": "viewer", "label": "可删"}).json()
    channels = shop.get("/channels").json()
    ids = {
        "shop_id": shop.id,
        "product_id": sku["product_id"],
        "sku_id": sku["id"],
        "supplier_id": supplier["id"],
        "batch_id": batches[0]["id"],
        "order_id": order["id"],
        "line_no": 1,
        "count_id": count.get("id", 1),
        "key_id": spare_key.get("id", 1),
        "channel_id": channels[0]["id"] if channels else 1,
        "sku_code": sku["code"],
    }
    openapi = httpx.get(f"{server_url}/openapi.json").json()
    return {"shop": shop, "ids": ids, "schema": Schema(openapi), "seen": Counter()}


def _assert_answer(r: httpx.Response, where: str) -> None:
    assert r.status_code < 500, (where, r.status_code, r.text[:500])
    assert b"Traceback" not in r.content, where
    if r.status_code >= 400:
        body = r.json()
        assert set(body) == ERROR_KEYS, (where, body)
        assert isinstance(body["error"], str) and isinstance(body["message"], str), where


def _query_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "true" if value else ("null" if value is None else "false")
    return value if isinstance(value, str) else repr(value)


def _send(field: Field, value: Any, t: dict[str, Any]) -> None:
    shop: ShopClient = t["shop"]
    schema: Schema = t["schema"]
    ids: dict[str, Any] = t["ids"]
    op = schema.openapi["paths"][field.path][field.method]
    path_values = {k: str(v) for k, v in ids.items()} | {"tier": "spot"}
    query: dict[str, str] = {}
    name = field.steps[0][1]
    if field.location == "path":
        path_values[name] = _query_text(value)
    elif field.location == "query":
        query[name] = _query_text(value)
    url = re.sub(r"\{(\w+)\}", lambda m: path_values[m.group(1)], field.path)
    body: Any = None
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if field.location == "body":
        body = schema.body(content["schema"], field.steps, value, ids)
    elif content is not None and op["requestBody"].get("required"):
        body = schema.minimal(content["schema"], "", ids)
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    kw: dict[str, Any] = {"params": query, "headers": headers}
    if body is not None:
        kw["json"] = body
    r = shop.request(field.method.upper(), url, **kw)
    if field.path != "/keys/{key_id}":  # a key id may name the calling key: revoked
        t["seen"][r.status_code] += 1
    _assert_answer(r, f"{field.label} = {value!r}")
    if field.method != "get" and r.status_code < 300:
        _read_back(shop, ids, f"after {field.label} = {value!r}")


def _read_back(shop: ShopClient, ids: dict[str, Any], where: str) -> None:
    """The pages an accepted write can change: none of them may fail."""
    for page in (
        f"/products/{ids['product_id']}/card",
        f"/skus/{ids['sku_id']}/capacity",
        f"/skus/{ids['sku_id']}/capacity/risk",
        f"/orders/{ids['order_id']}",
        "/promises",
        "/audit?limit=20",
    ):
        _assert_answer(shop.get(page), f"{page} {where}")


def test_the_schema_names_date_and_number_fields_everywhere(target: dict[str, Any]) -> None:
    kinds = {(f.location, f.kind) for f in target["schema"].fields()}
    assert {("body", k) for k in ("date", "datetime", "integer", "number")} <= kinds
    assert {("query", "datetime"), ("query", "integer"), ("path", "integer")} <= kinds


def _probe(field: Field, t: dict[str, Any]) -> None:
    """One field: its explicit extremes, then a few drawn values."""

    @settings(
        max_examples=GENERATED_PER_FIELD,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=values_for(field.kind, field.schema))
    def probe(value: Any) -> None:
        _send(field, value, t)

    for value in EXTREMES[field.kind]:
        probe = example(value=value)(probe)
    probe()


def test_no_extreme_value_in_any_date_or_number_field_makes_the_server_fail(
    target: dict[str, Any],
) -> None:
    fields = target["schema"].fields()
    assert len(fields) > 40, len(fields)
    fields.sort(key=lambda f: any(word in f.path for word in LAST))
    failures = []
    for field in fields:
        try:
            _probe(field, target)
        except AssertionError as exc:
            failures.append(str(exc)[:800])
    assert not failures, "\n\n".join(failures)
    seen = target["seen"]  # the key went with every request, and values got through
    assert seen[401] == 0, seen
    assert sum(n for status, n in seen.items() if status < 300) > 20, seen


def test_a_batch_ready_beyond_the_years_is_refused_and_the_last_day_still_reads(
    shop: ShopClient,
) -> None:
    """The case of the issue: a batch ready on 9999-12-31 was accepted, and the SKU's
    card and every order for it answered 500 ever after."""
    sku = shop.listed_sku(spot=1, presale=0)
    earlier = shop.order([(sku["id"], 1)]).json()
    supplier = shop.post("/suppliers", json={"name": "远方工厂"}).json()
    plan = f"/skus/{sku['id']}/capacity"
    for day in ("9999-12-31", "2101-01-01"):
        body = {"supplier_id": supplier["id"], "batches": [{"quantity": 5, "ready_on": day}]}
        refused = assert_error(shop.post(plan, json=body), 422, field="batches[0].ready_on")
        assert "2000 to 2100" in refused["message"]

    last = {"supplier_id": supplier["id"], "batches": [{"quantity": 5, "ready_on": "2100-12-31"}]}
    made = shop.post(plan, json=last)
    assert made.status_code == 201, made.text
    confirmed = shop.post(f"/capacity/{made.json()[0]['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    # a buyer now: the batch ships past any presale window — a refusal, not a failure
    assert_error(shop.order([(sku["id"], 1)]), 409, error="capacity_beyond_window")
    for page in (
        f"/products/{sku['product_id']}/card",
        f"/orders/{earlier['id']}",
        f"/skus/{sku['id']}/capacity",
        f"/skus/{sku['id']}/capacity/risk",
        "/promises",
    ):
        r = shop.get(page)
        assert r.status_code == 200, (page, r.text)
