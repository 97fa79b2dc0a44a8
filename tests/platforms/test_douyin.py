"""The Douyin client against the Douyin double, over loopback HTTP."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tierstock.platforms.base import (
    AuthError,
    PlatformError,
    PlatformOrder,
    PlatformOrderStatus,
    RateLimitedError,
    RejectedError,
    SkuRef,
    UnavailableError,
)
from tierstock.platforms.douyin import DouyinClient, encode_params, sign
from tierstock.testing.platforms.douyin import DouyinDouble
from tierstock.testing.server import free_port

ITEM = "3539925204033339668"
SKU_ID = "1737398770243598"
SKU = SkuRef(ITEM, SKU_ID)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def server() -> Iterator[DouyinDouble]:
    double = DouyinDouble()
    double.start()
    yield double
    double.stop()


@pytest.fixture
def double(server: DouyinDouble) -> DouyinDouble:
    server.reset()
    server.set_stock(ITEM, SKU_ID, 100)
    return server


@pytest.fixture
def client(double: DouyinDouble) -> Iterator[DouyinClient]:
    with_client = make_client(double)
    yield with_client
    with_client.close()


def make_client(double: DouyinDouble, **overrides: Any) -> DouyinClient:
    settings: dict[str, Any] = {
        "app_key": double.app_key,
        "app_secret": double.app_secret,
        "access_token": double.access_token,
        "server_url": double.url,
        "timeout_s": 2.0,
    }
    settings.update(overrides)
    return DouyinClient(**settings)


def pull(client: DouyinClient, since: datetime, until: datetime, size: int) -> list[PlatformOrder]:
    orders: list[PlatformOrder] = []
    cursor: str | None = None
    for _ in range(100):
        page = client.list_orders(since, until, cursor, size)
        orders.extend(page.orders)
        if page.cursor is None:
            return orders
        cursor = page.cursor
    raise AssertionError("the cursor never ended")


def place(double: DouyinDouble, n: int, at: datetime, **kw: Any) -> dict[str, Any]:
    return double.add_order(f"69{n:017d}", ITEM, SKU_ID, 1, 1990, paid_at=at, **kw)


def test_sign_is_the_documented_concatenation_wrapped_in_the_secret() -> None:
    pattern = 'Sapp_key7123methodorder.searchListparam_json{"a":1}timestamp1700000000v2S'
    expected_md5 = hashlib.md5(pattern.encode()).hexdigest()
    expected_hmac = hmac.new(b"S", pattern.encode(), hashlib.sha256).hexdigest()
    args = ("7123", "S", "order.searchList", '{"a":1}', "1700000000")
    assert sign(*args, sign_method="md5") == expected_md5
    assert sign(*args, sign_method="hmac-sha256") == expected_hmac
    assert encode_params({"size": 3, "name": "抖店", "a": True}) == (
        '{"a":true,"name":"抖店","size":3}'
    )


def test_paging_reads_every_order_of_the_window_once(double, client) -> None:
    for n in range(10):
        place(double, n, T0 + timedelta(minutes=n))
    orders = pull(client, T0, T0 + HOUR, 3)
    assert sorted(o.platform_order_id for o in orders) == sorted(f"69{n:017d}" for n in range(10))
    assert double.state.calls["order.searchList"] == 5  # page 0 to count, then 3, 2, 1, 0


def test_the_window_keeps_orders_changed_in_since_until(double, client) -> None:
    since, until = T0, T0 + HOUR
    place(double, 1, since - timedelta(seconds=1))
    place(double, 2, since)
    place(double, 3, since + timedelta(minutes=30))
    place(double, 4, until - timedelta(seconds=1))
    place(double, 5, until)
    place(double, 6, T0 - 2 * HOUR)
    double.cancel_order(f"69{6:017d}", at=since + timedelta(minutes=5))
    orders = {o.platform_order_id: o for o in pull(client, since, until, 50)}
    assert sorted(orders) == [f"69{n:017d}" for n in (2, 3, 4, 6)]
    assert orders[f"69{6:017d}"].status is PlatformOrderStatus.CANCELLED


def test_orders_carry_the_platform_values_in_fen_and_utc(double, client) -> None:
    ship_by = T0 + timedelta(days=2)
    double.add_order(
        "6900000000000000001",
        ITEM,
        SKU_ID,
        2,
        3980,
        paid_at=T0,
        exp_ship_time=ship_by,
        buyer="BUYER-OPEN-ID",
    )
    place(double, 2, T0, status=1)
    place(double, 3, T0)
    double.ship_order(f"69{3:017d}", at=T0 + timedelta(minutes=1))
    orders = {o.platform_order_id: o for o in pull(client, T0, T0 + HOUR, 10)}
    paid = orders["6900000000000000001"]
    assert paid.status is PlatformOrderStatus.PAID
    assert paid.paid_at == T0 and paid.paid_at.tzinfo is not None
    assert paid.updated_at == T0
    assert paid.promised_ship_by == ship_by
    assert paid.buyer == "BUYER-OPEN-ID"
    (line,) = paid.lines
    assert (line.platform_item_id, line.platform_sku_id, line.quantity, line.paid_fen) == (
        ITEM,
        SKU_ID,
        2,
        3980,
    )
    assert orders[f"69{2:017d}"].status is PlatformOrderStatus.UNPAID
    assert orders[f"69{2:017d}"].paid_at is None
    assert orders[f"69{3:017d}"].status is PlatformOrderStatus.SHIPPED


def test_a_scripted_burst_takes_and_returns_platform_stock(double, client) -> None:
    for n in range(20):
        place(double, n, T0 + timedelta(seconds=n))
    for n in range(5):
        double.cancel_order(f"69{n:017d}", at=T0 + timedelta(minutes=1))
    assert client.read_stock(SKU) == 100 - 20 + 5
    statuses = [o.status for o in pull(client, T0, T0 + HOUR, 7)]
    assert statuses.count(PlatformOrderStatus.PAID) == 15
    assert statuses.count(PlatformOrderStatus.CANCELLED) == 5


def test_md5_signing_is_accepted_as_well(double) -> None:
    md5_client = make_client(double, sign_method="md5")
    assert md5_client.read_stock(SKU) == 100
    md5_client.close()


@pytest.mark.parametrize(
    ("overrides", "sub_code"),
    [
        ({"app_secret": "not-the-secret"}, "isv.signature-invalid"),
        ({"access_token": "not-the-token"}, "isv.access-token-no-existed"),
        ({"app_key": "7000000000000000000"}, "isv.app-id-invalid"),
    ],
)
def test_bad_credentials_are_auth_errors(double, overrides, sub_code) -> None:
    bad = make_client(double, **overrides)
    with pytest.raises(AuthError) as caught:
        bad.read_stock(SKU)
    assert caught.value.code == sub_code
    bad.close()


def test_an_expired_token_is_an_auth_error(double, client) -> None:
    double.expire_token()
    with pytest.raises(AuthError) as caught:
        client.read_stock(SKU)
    assert caught.value.code == "isv.access-token-expired"


def test_a_5xx_is_unavailable_and_the_next_call_goes_through(double, client) -> None:
    double.faults.fail_next = 1
    with pytest.raises(UnavailableError):
        client.read_stock(SKU)
    assert client.read_stock(SKU) == 100


def test_a_timeout_is_unavailable(double) -> None:
    double.faults.hang_next, double.faults.hang_s = 1, 0.6
    slow = make_client(double, timeout_s=0.2)
    with pytest.raises(UnavailableError, match="timed out"):
        slow.read_stock(SKU)
    slow.close()


def test_a_refused_connection_is_unavailable(double) -> None:
    gone = make_client(double, server_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UnavailableError):
        gone.read_stock(SKU)
    gone.close()


def test_the_platform_rate_limit_is_rate_limited(double, client) -> None:
    double.faults.rate_limit_per_s = 2
    client.read_stock(SKU)
    client.read_stock(SKU)
    with pytest.raises(RateLimitedError) as caught:
        client.read_stock(SKU)
    assert caught.value.code == "isp.traffic-limited"


def test_set_stock_is_absolute_and_change_stock_incremental(double, client) -> None:
    client.set_stock(SKU, 40)
    assert double.stock_of(ITEM, SKU_ID) == 40
    client.change_stock(SKU, 5)
    client.change_stock(SKU, -15)
    assert client.read_stock(SKU) == 30
    client.set_stock(SKU, 0)
    assert client.read_stock(SKU) == 0
    assert double.state.stock_changes == 4


def test_a_change_below_zero_is_refused_and_changes_nothing(double, client) -> None:
    client.set_stock(SKU, 3)
    with pytest.raises(RejectedError, match="库存不足"):
        client.change_stock(SKU, -4)
    assert client.read_stock(SKU) == 3


def test_an_unknown_sku_is_rejected(double, client) -> None:
    with pytest.raises(RejectedError) as caught:
        client.read_stock(SkuRef(ITEM, "999"))
    assert caught.value.code == "isv.parameter-invalid:20050"
    with pytest.raises(RejectedError):
        client.change_stock(SkuRef(ITEM, "not-a-number"), 1)


def test_a_change_applied_before_a_failure_counts_once(double, client) -> None:
    double.faults.apply_then_fail_next = 1
    with pytest.raises(UnavailableError):
        client.change_stock(SKU, 5)
    assert client.read_stock(SKU) == 105  # applied once; the caller re-reads, not resends
    assert double.state.stock_changes == 1


def test_duplicate_deliveries_repeat_the_same_orders(double, client) -> None:
    double.faults.duplicate_orders = True
    for n in range(4):
        place(double, n, T0 + timedelta(minutes=n))
    orders = pull(client, T0, T0 + HOUR, 3)
    assert len(orders) == 8
    by_id: dict[str, list[PlatformOrder]] = {}
    for order in orders:
        by_id.setdefault(order.platform_order_id, []).append(order)
    assert len(by_id) == 4
    assert all(len(copies) == 2 and copies[0] == copies[1] for copies in by_id.values())


def test_no_secret_or_token_in_errors_logs_or_repr(double, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(double)
    errors: list[PlatformError] = []

    def collect(call: Any) -> None:
        try:
            call()
        except PlatformError as exc:
            errors.append(exc)

    double.faults.fail_next = 1
    collect(lambda: client.read_stock(SKU))
    double.faults.apply_then_fail_next = 1
    collect(lambda: client.change_stock(SKU, 1))
    collect(lambda: client.change_stock(SKU, -1000))
    collect(lambda: client.read_stock(SkuRef(ITEM, "1")))
    double.expire_token()
    collect(lambda: client.read_stock(SKU))
    double.token_expired = False
    collect(lambda: make_client(double, access_token="x" * 24).read_stock(SKU))
    collect(lambda: make_client(double, app_secret="y" * 24).read_stock(SKU))
    double.faults.rate_limit_per_s = 0
    collect(lambda: client.read_stock(SKU))
    double.faults.rate_limit_per_s = None
    gone = make_client(double, server_url=f"http://127.0.0.1:{free_port()}")
    collect(lambda: gone.read_stock(SKU))
    assert len(errors) == 9
    secrets = (double.app_secret, double.access_token, "x" * 24, "y" * 24)
    texts = [f"{e} {e!r} {e.args} {e.code}" for e in errors]
    texts += [repr(client), *(r.getMessage() for r in caplog.records)]
    assert any("access_token=%2A%2A%2A" in r.getMessage() for r in caplog.records)
    for text in texts:
        for secret in secrets:
            assert secret not in text
    client.close()


def raw(double: DouyinDouble, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """A correctly signed call the client would never make."""
    method = path.strip("/").replace("/", ".")
    body = encode_params(params)
    query = {
        "app_key": double.app_key,
        "method": method,
        "v": "2",
        "timestamp": "1700000000",
        "sign_method": "hmac-sha256",
        "access_token": double.access_token,
    }
    query["sign"] = sign(double.app_key, double.app_secret, method, body, "1700000000")
    answer = httpx.post(f"{double.url}{path}", params=query, content=body.encode())
    result: dict[str, Any] = answer.json()
    return result


def test_the_double_refuses_what_the_docs_refuse(double) -> None:
    window = {"update_time_start": 0, "page": 0}
    assert raw(double, "/order/searchList", {**window, "size": 101})["sub_code"] == (
        "isv.parameter-invalid:20008"
    )
    assert raw(double, "/order/searchList", {"page": 0, "size": 10})["sub_code"] == (
        "isv.parameter-invalid:20011"
    )
    stock = {"sku_id": int(SKU_ID), "incremental": True, "stock_num": 1}
    assert raw(double, "/sku/syncStock", stock)["code"] == 40002  # idempotent_id required
    once = {**stock, "idempotent_id": "same-id"}
    assert raw(double, "/sku/syncStock", once)["code"] == 10000
    assert raw(double, "/sku/syncStock", once)["sub_code"] == "isv.parameter-invalid:40010"
    assert double.stock_of(ITEM, SKU_ID) == 101
    assert raw(double, "/product/detail", {})["code"] == 70000
