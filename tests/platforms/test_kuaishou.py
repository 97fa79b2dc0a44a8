"""The real Kuaishou client against the Kuaishou double over loopback HTTP.

Each test gets its own double (a uvicorn server on 127.0.0.1) with a held clock for
order times, and a client with distinctive credentials so that a leak is easy to spot.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tierstock.platforms.base import (
    AuthError,
    OrderPage,
    PlatformError,
    PlatformOrderStatus,
    RateLimitedError,
    RejectedError,
    SkuRef,
    UnavailableError,
)
from tierstock.platforms.kuaishou import KuaishouClient, api_path, sign
from tierstock.testing.platforms.kuaishou import KuaishouDouble
from tierstock.testing.server import free_port

APP_KEY = "ks660000000000000042"
SECRET = "SiGnSeCrEt-7Qp2Zr"
TOKEN = "AcCeSsToKeN-k9fXw4"
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
SKU = SkuRef("1001", "2001")


class Clock:
    """The double's clock, moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta).total_seconds()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def double(clock: Clock) -> Iterator[KuaishouDouble]:
    store = KuaishouDouble(app_key=APP_KEY, sign_secret=SECRET, access_token=TOKEN, clock=clock)
    store.start()
    yield store
    # uvicorn sees the stop on its next 0.1 s tick: let it wind down off the test's time
    # (a plain thread, so the run still waits for every server to be gone).
    threading.Thread(target=store.stop, name="kuaishou-double-stop").start()


def make_client(double: KuaishouDouble, **overrides: Any) -> KuaishouClient:
    settings: dict[str, Any] = {
        "app_key": APP_KEY,
        "sign_secret": SECRET,
        "access_token": TOKEN,
        "server_url": double.url,
        "timeout_s": 5.0,
    }
    settings.update(overrides)
    return KuaishouClient(**settings)


@pytest.fixture
def client(double: KuaishouDouble) -> Iterator[KuaishouClient]:
    kuaishou = make_client(double)
    yield kuaishou
    kuaishou.close()


def every_page(
    client: KuaishouClient, since: datetime, until: datetime, page_size: int
) -> list[OrderPage]:
    pages = [client.list_orders(since, until, None, page_size)]
    while pages[-1].cursor is not None:
        assert len(pages) < 100, "the cursor never ran out"
        pages.append(client.list_orders(since, until, pages[-1].cursor, page_size))
    return pages


def raw_call(
    double: KuaishouDouble,
    method: str,
    business: dict[str, Any],
    *,
    sign_method: str = "MD5",
    http_method: str = "GET",
    tamper: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A hand-built signed request; ``tamper`` changes parameters after signing."""
    params = {
        "appkey": APP_KEY,
        "method": method,
        "version": "1",
        "access_token": TOKEN,
        "timestamp": str(int(time.time() * 1000)),
        "signMethod": sign_method,
        "param": json.dumps(business, separators=(",", ":")),
    }
    params["sign"] = sign(params, SECRET, sign_method)
    params.update(tamper or {})
    url = double.url + api_path(method)
    if http_method == "GET":
        response = httpx.get(url, params=params)
    else:
        response = httpx.post(url, data=params)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def window() -> tuple[datetime, datetime]:
    return T0 - timedelta(hours=1), T0 + timedelta(hours=1)


# --- signing ------------------------------------------------------------------------------


# Computed with the kwaixiaodian 1.0.3 SignatureManager (an independent implementation of
# the documented rule), for these parameters.
VECTOR_PARAMS = {
    "method": "open.item.sku.stock.update",
    "appkey": "ks123",
    "access_token": "tok-abc",
    "version": "1",
    "timestamp": "1583271919000",
    "param": '{"kwaiItemId":1001,"skuId":2002,"skuChangeStock":3,"changeType":2}',
}


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("MD5", "3dba6a081d49fb87860e91998f02f39c"),
        ("HMAC_SHA256", "EDt82phQm8LuhXOyg6IiBOl8vijN7Z0Mn6L3ZXL1izo="),
    ],
)
def test_sign_matches_vectors_from_an_independent_implementation(method, expected) -> None:
    params = {**VECTOR_PARAMS, "signMethod": method}
    assert sign(params, "s3cr3t-sign", method) == expected


def test_sign_covers_only_the_documented_parameters() -> None:
    params = {**VECTOR_PARAMS, "signMethod": "MD5"}
    noisy = {**params, "sign": "whatever", "extra": "ignored"}
    assert sign(noisy, "s3cr3t-sign", "MD5") == sign(params, "s3cr3t-sign", "MD5")
    assert sign({**params, "param": '{"skuId":1}'}, "s3cr3t-sign", "MD5") != sign(
        params, "s3cr3t-sign", "MD5"
    )
    with pytest.raises(ValueError):
        sign(params, "s3cr3t-sign", "SHA1")


@pytest.mark.parametrize("sign_method", ["MD5", "HMAC_SHA256"])
def test_both_sign_methods_are_accepted(double: KuaishouDouble, sign_method: str) -> None:
    double.set_stock("1001", "2001", 12)
    kuaishou = make_client(double, sign_method=sign_method)
    assert kuaishou.read_stock(SKU) == 12
    kuaishou.change_stock(SKU, -2)
    assert double.stock_of("1001", "2001") == 10
    kuaishou.close()


def test_a_tampered_param_is_refused(double: KuaishouDouble) -> None:
    double.set_stock("1001", "2001", 12)
    honest = raw_call(double, "open.item.sku.list.get", {"kwaiItemId": 1001})
    assert honest["result"] == 1
    forged = raw_call(
        double,
        "open.item.sku.list.get",
        {"kwaiItemId": 1001},
        tamper={"param": json.dumps({"kwaiItemId": 1002}, separators=(",", ":"))},
    )
    assert forged["result"] == 100200114
    assert forged["error_msg"] == "签名校验失败"


# --- orders -------------------------------------------------------------------------------


def test_pages_follow_the_cursor_until_nomore(
    double: KuaishouDouble, client: KuaishouClient
) -> None:
    oids = [double.add_order("1001", "2001") for _ in range(7)]
    pages = every_page(client, *window(), page_size=3)
    assert [len(page.orders) for page in pages] == [3, 3, 1]
    assert [o.platform_order_id for page in pages for o in page.orders] == oids
    assert double.state.calls["open.order.cursor.list"] == 3
    last = raw_call(
        double,
        "open.order.cursor.list",
        {
            "pageSize": 50,
            "queryType": 2,
            "beginTime": int((T0 - timedelta(hours=1)).timestamp() * 1000),
            "endTime": int((T0 + timedelta(hours=1)).timestamp() * 1000),
            "cursor": "",
        },
    )
    assert last["data"]["cursor"] == "nomore"
    assert len(last["data"]["orderList"]) == 7


def test_orders_carry_the_documented_fields(double: KuaishouDouble, client: KuaishouClient) -> None:
    promise = T0 + timedelta(days=2)
    oid = double.add_order(
        "1001", "2001", 3, unit_price_fen=1990, promise_ship_by=promise, buyer="open-buyer-1"
    )
    (page,) = every_page(client, *window(), page_size=10)
    (order,) = page.orders
    assert order.platform_order_id == oid
    assert order.status is PlatformOrderStatus.PAID
    assert order.paid_at == T0 and order.paid_at.tzinfo is UTC
    assert order.updated_at == T0
    assert order.promised_ship_by == promise
    assert order.buyer == "open-buyer-1"
    (line,) = order.lines
    assert (line.platform_item_id, line.platform_sku_id, line.quantity) == ("1001", "2001", 3)
    assert line.paid_fen == 5970
    assert client.order_detail(oid) == order


def test_the_window_keeps_orders_changed_inside_it(
    double: KuaishouDouble, client: KuaishouClient, clock: Clock
) -> None:
    early = double.add_order("1001", "2001")
    clock.advance(minutes=10)
    middle = double.add_order("1001", "2001")
    clock.advance(minutes=10)
    late = double.add_order("1001", "2001")  # at T0 + 20 min: outside [T0+5, T0+20)
    inside = client.list_orders(T0 + timedelta(minutes=5), T0 + timedelta(minutes=20), None, 50)
    assert [o.platform_order_id for o in inside.orders] == [middle]
    clock.advance(minutes=10)
    double.cancel_order(early)  # its update time moves to T0 + 30 min
    changed = client.list_orders(T0 + timedelta(minutes=25), T0 + timedelta(minutes=35), None, 50)
    assert [(o.platform_order_id, o.status) for o in changed.orders] == [
        (early, PlatformOrderStatus.CANCELLED)
    ]
    everything = client.list_orders(T0, T0 + timedelta(hours=1), None, 50)
    assert [o.platform_order_id for o in everything.orders] == [middle, late, early]


def test_status_changes_reach_the_client(
    double: KuaishouDouble, client: KuaishouClient, clock: Clock
) -> None:
    double.set_stock("1001", "2001", 10)
    shipped, refunded, cancelled = (double.add_order("1001", "2001") for _ in range(3))
    assert double.stock_of("1001", "2001") == 7
    clock.advance(seconds=1)
    double.ship_order(shipped)
    double.refund(refunded)
    double.cancel_order(cancelled)
    assert double.stock_of("1001", "2001") == 9  # units of unshipped orders come back
    statuses = {
        o.platform_order_id: o.status for o in client.list_orders(*window(), None, 50).orders
    }
    assert statuses == {
        shipped: PlatformOrderStatus.SHIPPED,
        refunded: PlatformOrderStatus.CANCELLED,
        cancelled: PlatformOrderStatus.CANCELLED,
    }
    assert double.order(refunded)["orderRefundList"][0]["refundStatus"] == 60


def test_an_unknown_status_is_refused_rather_than_guessed(
    double: KuaishouDouble, client: KuaishouClient
) -> None:
    oid = double.add_order("1001", "2001")
    with double.lock:
        double.state.orders[0]["orderBaseInfo"]["status"] = 0  # "未知状态"
    with pytest.raises(RejectedError) as refused:
        client.order_detail(oid)
    assert refused.value.code == "status_0"
    with pytest.raises(RejectedError):
        client.order_detail("2300000000099999")  # no such order


def test_duplicate_deliveries_bring_every_order_twice(
    double: KuaishouDouble, client: KuaishouClient
) -> None:
    oids = [double.add_order("1001", "2001") for _ in range(5)]
    double.faults.duplicate_orders = True
    pages = every_page(client, *window(), page_size=2)
    seen = Counter(o.platform_order_id for page in pages for o in page.orders)
    assert seen == Counter({oid: 2 for oid in oids})


def test_page_size_is_held_to_the_platform_maximum(
    double: KuaishouDouble, client: KuaishouClient
) -> None:
    for _ in range(3):
        double.add_order("1001", "2001")
    assert len(client.list_orders(*window(), None, 500).orders) == 3
    refused = raw_call(
        double,
        "open.order.cursor.list",
        {"pageSize": 51, "beginTime": 1, "endTime": 2, "cursor": ""},
    )
    assert (refused["result"], refused["error_msg"]) == (2001, "pageSize无效")


def test_a_window_over_seven_days_is_refused(client: KuaishouClient) -> None:
    with pytest.raises(RejectedError) as refused:
        client.list_orders(T0 - timedelta(days=8), T0, None, 10)
    assert refused.value.code == "2001"


def test_reads_and_writes_are_accepted_as_get_and_post(double: KuaishouDouble) -> None:
    business = {
        "pageSize": 10,
        "queryType": 2,
        "beginTime": int((T0 - timedelta(hours=1)).timestamp() * 1000),
        "endTime": int(T0.timestamp() * 1000),
        "cursor": "",
    }
    assert raw_call(double, "open.order.cursor.list", business, http_method="POST")["result"] == 1
    assert raw_call(double, "open.order.cursor.list", business, http_method="GET")["result"] == 1


# --- stock --------------------------------------------------------------------------------


def test_stock_reads_and_deltas(double: KuaishouDouble, client: KuaishouClient) -> None:
    double.set_stock("1001", "2001", 10)
    double.set_stock("1001", "2002", 4)
    assert client.read_stock(SKU) == 10
    client.change_stock(SKU, 5)
    client.change_stock(SKU, -2)
    client.change_stock(SKU, 0)  # nothing to send
    assert double.stock_of("1001", "2001") == 13
    assert double.state.stock_changes == 2
    assert double.http_methods[("POST", "open.item.sku.stock.update")] == 2


def test_set_stock_reads_then_changes_by_the_difference(
    double: KuaishouDouble, client: KuaishouClient
) -> None:
    double.set_stock("1001", "2001", 10)
    client.set_stock(SKU, 4)
    assert double.stock_of("1001", "2001") == 4
    client.set_stock(SKU, 4)
    assert double.state.stock_changes == 1  # same figure: read, no change
    client.set_stock(SKU, 25)
    assert double.stock_of("1001", "2001") == 25


def test_stock_cannot_go_below_zero_or_the_reserve(
    double: KuaishouDouble, client: KuaishouClient
) -> None:
    double.set_stock("1001", "2001", 10)
    with pytest.raises(RejectedError) as refused:
        client.change_stock(SKU, -11)
    assert refused.value.code == "21"
    double.set_reserved("1001", "2001", 8)
    with pytest.raises(RejectedError):
        client.change_stock(SKU, -3)
    assert double.stock_of("1001", "2001") == 10
    assert double.state.stock_changes == 0


def test_an_unknown_sku_is_rejected(double: KuaishouDouble, client: KuaishouClient) -> None:
    double.set_stock("1001", "2001", 10)
    with pytest.raises(RejectedError):
        client.read_stock(SkuRef("1001", "9999"))
    with pytest.raises(RejectedError):
        client.read_stock(SkuRef("4040", "2001"))
    with pytest.raises(RejectedError):
        client.change_stock(SkuRef("1001", "9999"), 1)
    with pytest.raises(RejectedError):
        client.read_stock(SkuRef("not-a-number", "2001"))


def test_a_delta_applied_then_failed_lands_once(
    double: KuaishouDouble, client: KuaishouClient
) -> None:
    double.set_stock("1001", "2001", 10)
    double.faults.apply_then_fail_next = 1
    with pytest.raises(UnavailableError):
        client.change_stock(SKU, -3)
    assert double.stock_of("1001", "2001") == 7
    assert double.state.stock_changes == 1
    assert client.read_stock(SKU) == 7  # the truth, before deciding to retry
    client.set_stock(SKU, 7)
    assert double.state.stock_changes == 1


# --- failures -----------------------------------------------------------------------------


def test_a_wrong_secret_is_an_auth_error(double: KuaishouDouble) -> None:
    kuaishou = make_client(double, sign_secret="not-the-secret")
    with pytest.raises(AuthError) as refused:
        kuaishou.list_orders(*window(), None, 10)
    assert refused.value.code == "100200114"
    kuaishou.close()


def test_an_expired_token_is_an_auth_error(double: KuaishouDouble, client: KuaishouClient) -> None:
    double.set_stock("1001", "2001", 10)
    assert client.read_stock(SKU) == 10
    double.expire_token()
    with pytest.raises(AuthError) as refused:
        client.read_stock(SKU)
    assert refused.value.code == "100200102"
    assert "TOKEN过期" in str(refused.value)


def test_an_unknown_app_key_or_token_is_an_auth_error(double: KuaishouDouble) -> None:
    for wrong in ({"app_key": "ks000"}, {"access_token": "someone-elses-token"}):
        kuaishou = make_client(double, **wrong)
        with pytest.raises(AuthError):
            kuaishou.list_orders(*window(), None, 10)
        kuaishou.close()


def test_a_5xx_is_unavailable_and_the_next_call_works(
    double: KuaishouDouble, client: KuaishouClient
) -> None:
    double.set_stock("1001", "2001", 10)
    double.faults.fail_next = 1
    with pytest.raises(UnavailableError) as failed:
        client.read_stock(SKU)
    assert failed.value.code == "http_503"
    assert client.read_stock(SKU) == 10


def test_a_timeout_is_unavailable(double: KuaishouDouble) -> None:
    double.set_stock("1001", "2001", 10)
    double.faults.hang_next, double.faults.hang_s = 1, 0.6
    kuaishou = make_client(double, timeout_s=0.15)
    with pytest.raises(UnavailableError):
        kuaishou.read_stock(SKU)
    kuaishou.close()


def test_a_refused_connection_is_unavailable() -> None:
    kuaishou = KuaishouClient(
        app_key=APP_KEY,
        sign_secret=SECRET,
        access_token=TOKEN,
        server_url=f"http://127.0.0.1:{free_port()}",
    )
    with pytest.raises(UnavailableError):
        kuaishou.read_stock(SKU)
    kuaishou.close()


def test_the_rate_limit_is_rate_limited(double: KuaishouDouble, client: KuaishouClient) -> None:
    double.set_stock("1001", "2001", 10)
    double.faults.rate_limit_per_s = 1
    assert client.read_stock(SKU) == 10
    with pytest.raises(RateLimitedError) as limited:
        client.read_stock(SKU)
    assert "Exceed qps limit" in str(limited.value)


def test_no_credential_in_errors_logs_or_repr(
    double: KuaishouDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    double.set_stock("1001", "2001", 1)
    kuaishou = make_client(double, timeout_s=0.15)
    wrong = make_client(double, sign_secret="WrOnGsEcReT-55")
    errors: list[PlatformError] = []

    def collect(call: Any) -> None:
        try:
            call()
        except PlatformError as error:
            errors.append(error)

    collect(lambda: wrong.read_stock(SKU))
    collect(lambda: kuaishou.change_stock(SKU, -5))
    collect(lambda: kuaishou.read_stock(SkuRef("1001", "7")))
    double.faults.fail_next = 1
    collect(lambda: kuaishou.read_stock(SKU))
    double.faults.hang_next, double.faults.hang_s = 1, 0.6
    collect(lambda: kuaishou.read_stock(SKU))
    double.faults.rate_limit_per_s = 1
    collect(lambda: kuaishou.read_stock(SKU))
    collect(lambda: kuaishou.read_stock(SKU))
    double.faults.rate_limit_per_s = None
    double.expire_token()
    collect(lambda: kuaishou.list_orders(*window(), None, 10))
    kinds = {type(error) for error in errors}
    assert {AuthError, RejectedError, UnavailableError, RateLimitedError} <= kinds
    texts = [str(e) + repr(e) + repr(e.args) for e in errors]
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(kuaishou), repr(wrong)]
    assert any("HTTP Request" in text and "access_token=%2A%2A%2A" in text for text in texts)
    for text in texts:
        for credential in (SECRET, TOKEN, "WrOnGsEcReT-55"):
            assert credential not in text
    kuaishou.close()
    wrong.close()
