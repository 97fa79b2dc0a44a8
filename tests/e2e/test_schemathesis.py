"""Fuzz every operation of the OpenAPI schema over real HTTP with every schemathesis check
— the pytest equivalent of ``st run --checks all``: no 5xx; status codes, content types,
headers and bodies as documented; data the schema allows is accepted and data it
forbids refused; the API key enforced; and every 4xx in the error shape.

Both generation modes (valid and invalid data), a few examples per operation each; CI
runs a fixed, reproducible sample (``derandomize``). Where the API deliberately says
more than a schema can, the test says so in one place each:

- a whole number spelled as a float (``1.0``) is an integer to JSON Schema 2020-12 but
  not to this API (strict types: ``true``, ``"1"`` and ``1.0`` are no quantity), so
  valid cases spell integers as JSON integers;
- a rule the schema cannot state — one of the shop's policy pack (a spot window of 24,
  48 or 72 hours), of the data (an unknown SKU code, a channel that is the own
  storefront) or of the clock (a ready day in the past) — refuses valid-looking data
  with a 422 naming the rule; a 422 ``validation_error`` on valid data is always a
  mismatch between the schema and the server, and fails;
- writes get a fresh Idempotency-Key: a key used again with another body is refused by
  design (``idempotency_key_reused``).
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure

from tests.e2e.conftest import Api, ShopClient, assert_error

# CI runs a fixed, reproducible sample; TIERSTOCK_FUZZ_RANDOM=1 (and a larger
# TIERSTOCK_FUZZ_EXAMPLES) explores new inputs on a developer's machine.
EXAMPLES_PER_OPERATION = int(os.environ.get("TIERSTOCK_FUZZ_EXAMPLES", "5"))
DERANDOMIZE = os.environ.get("TIERSTOCK_FUZZ_RANDOM") != "1"
IDEMPOTENCY_KEY = "idempotency-key"
REVOKE_KEY = "DELETE /keys/{key_id}"


def positive_data_accepted_unless_a_rule_refused_it(ctx: Any, response: Any, case: Any) -> Any:
    """schemathesis's ``positive_data_acceptance``, except for a 422 that names a rule of
    the pack, the data or the clock (any error but ``validation_error``)."""
    built_in: Any = CHECKS.get_one("positive_data_acceptance")
    try:
        return built_in(ctx, response, case)
    except Failure:
        if response.status_code == 422 and response.json().get("error") != "validation_error":
            return None
        raise


def checks() -> list[Any]:
    """Every check schemathesis has (what ``--checks all`` selects), one refined above."""
    load_all_checks()
    every = [c for c in CHECKS.get_all() if c.__name__ != "positive_data_acceptance"]
    assert len(every) == len(CHECKS.get_all()) - 1
    return [*every, positive_data_accepted_unless_a_rule_refused_it]


def as_json_integers(value: Any) -> Any:
    """The same JSON value with every whole float (``3.0``) spelled as an integer."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {k: as_json_integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json_integers(v) for v in value]
    return value


@pytest.fixture(scope="session")
def fuzz_target(server_url: str) -> dict[str, Any]:
    """A shop with real objects so fuzzed ids sometimes hit something (ids 1..)."""
    api = Api(server_url)
    shop = api.new_shop("模糊测试店")
    sku = shop.listed_sku(spot=1000, presale=1000)
    shop.order([(sku["id"], 1)])
    return {"key": shop.key, "url": server_url}


@pytest.fixture(scope="session")
def api_schema(fuzz_target: dict[str, Any]) -> Any:
    # the key through the schema's own security scheme, so schemathesis knows when a
    # case leaves it out on purpose (and then expects a 401)
    config = SchemathesisConfig.from_dict(
        {"auth": {"openapi": {"ApiKey": {"api_key": fuzz_target["key"]}}}}
    )
    return schemathesis.openapi.from_url(f"{fuzz_target['url']}/openapi.json", config=config)


def _check(
    case: Any, mode: GenerationMode, url: str, session: requests.Session, seen: Counter[int]
) -> None:
    if mode.is_positive:
        if case.body is not None and not isinstance(case.body, (str, bytes)):
            case.body = as_json_integers(case.body)
        declared = {p.name.lower() for p in case.operation.iter_parameters()}
        if IDEMPOTENCY_KEY in declared:
            case.headers = {
                **{k: v for k, v in (case.headers or {}).items() if k.lower() != IDEMPOTENCY_KEY},
                "Idempotency-Key": uuid.uuid4().hex,
            }
    response = case.call_and_validate(base_url=url, session=session, checks=checks(), timeout=30)
    if mode.is_positive and case.operation.label != REVOKE_KEY:
        seen[response.status_code] += 1
    where = f"{case.method} {case.formatted_path}"
    # bodies may be binary (the XLSX variance export): compare bytes, not text
    assert b"Traceback" not in response.content, where
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"error", "field", "message"}, (where, body)
        assert isinstance(body["error"], str) and isinstance(body["message"], str)


def _fuzz(
    operation: Any, mode: GenerationMode, url: str, session: requests.Session, seen: Counter[int]
) -> None:
    """One bounded hypothesis run over an operation's cases of one generation mode."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        _check(case, mode, url, session, seen)

    fuzz()


def test_every_operation_answers_as_its_schema_says_under_every_check(
    api_schema: Any, fuzz_target: dict[str, Any]
) -> None:
    """Each operation and generation mode gets its own bounded run; every failure is
    collected, so one run shows them all."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 15
    # a fuzzed key id may name the calling key itself: revoking keys goes last
    operations.sort(key=lambda op: op.label == REVOKE_KEY)
    failures: list[str] = []
    seen: Counter[int] = Counter()  # the statuses valid cases got
    session = requests.Session()  # keep-alive: one connection for the run
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, fuzz_target["url"], session, seen)
            except Unsatisfiable:
                assert not mode.is_positive, operation.label  # nothing to get wrong
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}):\n{exc}")
    assert not failures, "\n\n".join(failures)
    # the key went with every valid case, and they got through (a 401 or a 404 would
    # pass the checks as well)
    assert seen[401] == 0, seen
    assert sum(n for status, n in seen.items() if 200 <= status < 300) > len(operations), seen


# --- what the schema declares, and the server does -----------------------------------------

OPEN_OPERATIONS = {("post", "/shops"), ("get", "/health")}


def test_the_key_is_a_security_scheme_and_writes_declare_their_idempotency_key(
    server_url: str,
) -> None:
    openapi = httpx.get(f"{server_url}/openapi.json").json()
    assert openapi["components"]["securitySchemes"] == {
        "ApiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "the shop's API key",
        }
    }
    keyed = 0
    for path, operations in openapi["paths"].items():
        for method, op in operations.items():
            names = {p["name"].lower(): p for p in op.get("parameters", [])}
            assert "x-api-key" not in names, (method, path)  # not a plain header any more
            if (method, path) not in OPEN_OPERATIONS:
                assert op["security"] == [{"ApiKey": []}], (method, path)
            if key := names.get("idempotency-key"):
                keyed += 1
                assert method in ("post", "put", "delete"), (method, path)
                bounds = next(s for s in key["schema"].get("anyOf", [key["schema"]]) if s)
                assert (bounds["minLength"], bounds["maxLength"]) == (1, 200), (method, path)
                assert key["required"] is (path == "/orders"), (method, path)
            documented = set(op["responses"])
            assert "413" in documented, (method, path)
            if method in ("post", "put", "patch"):
                assert "415" in documented, (method, path)
            if "requestBody" in op:
                assert "400" in documented, (method, path)
    assert keyed > 20


def test_the_refusals_of_a_body_are_answered_as_documented(shop: ShopClient) -> None:
    as_text = shop.post(
        "/products", content=b'{"name": "x"}', headers={"Content-Type": "text/plain"}
    )
    assert_error(as_text, 415, error="unsupported_media_type", field="Content-Type")
    latin1 = shop.post(
        "/products",
        content='{"name": "é"}'.encode("latin-1"),
        headers={"Content-Type": "application/json"},
    )
    assert_error(latin1, 400, error="unreadable_body", field="body")

    def streamed() -> Iterator[bytes]:  # no Content-Length: the limit counts as it reads
        yield b'{"name": "'
        for _ in range(3):
            yield b"x" * (1 << 19)
        yield b'"}'

    too_big = shop.post(
        "/products", content=streamed(), headers={"Content-Type": "application/json"}
    )
    assert_error(too_big, 413, error="body_too_large", field="body")
    blank_key = shop.post("/products", json={"name": "x"}, headers={"Idempotency-Key": ""})
    assert_error(blank_key, 422, field="Idempotency-Key")
    assert shop.get("/products").json()["count"] == 0


def test_a_method_the_path_does_not_take_is_405_with_every_method_it_does(
    shop: ShopClient,
) -> None:
    r = shop.request("PATCH", "/products")
    assert_error(r, 405, error="method_not_allowed")
    assert set(r.headers["Allow"].split(", ")) == {"GET", "POST"}
