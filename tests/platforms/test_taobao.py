"""The Taobao client against the Taobao (TOP) double, over loopback HTTP."""

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
from tierstock.platforms.taobao import TaobaoClient, sign, top_time
from tierstock.testing.platforms.taobao import TaobaoDouble
from tierstock.testing.server import free_port

ITEM = "3838293428"
SKU_ID = "1230005"
SKU = SkuRef(ITEM, SKU_ID)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def server() -> Iterator[TaobaoDouble]:
    double = TaobaoDouble()
    double.start()
    yield double
    double.stop()


@pytest.fixture
def double(server: TaobaoDouble) -> TaobaoDouble:
    server.reset()
    server.set_stock(ITEM, SKU_ID, 100)
    return server


@pytest.fixture
def client(double: TaobaoDouble) -> Iterator[TaobaoClient]:
    made = make_client(double)
    yield made
    made.close()


def make_client(double: TaobaoDouble, **overrides: Any) -> TaobaoClient:
    settings: dict[str, Any] = {
        "app_key": double.app_key,
        "app_secret": double.app_secret,
        "session": double.session,
        "server_url": double.url,
        "timeout_s": 2.0,
    }
    settings.update(overrides)
    return TaobaoClient(**settings)


def pull(client: TaobaoClient, since: datetime, until: datetime, size: int) -> list[PlatformOrder]:
    orders: list[PlatformOrder] = []
    cursor: str | None = None
    for _ in range(500):
        page = client.list_orders(since, until, cursor, size)
        orders.extend(page.orders)
        if page.cursor is None:
            return orders
        cursor = page.cursor
    raise AssertionError("the cursor never ended")


def tid(n: int) -> str:
    return f"2231958{n:06d}"


def place(double: TaobaoDouble, n: int, at: datetime, **kw: Any) -> dict[str, Any]:
    return double.add_order(tid(n), ITEM, SKU_ID, 1, "19.90", paid_at=at, **kw)


def test_sign_is_the_sorted_name_value_string_hashed_with_the_secret() -> None:
    params = {"b": "2", "a": "1", "empty": "", "sign": "ignored"}
    assert sign(params, "S", "md5") == hashlib.md5(b"Sa1b2S").hexdigest().upper()
    assert sign(params, "S", "hmac") == hmac.new(b"S", b"a1b2", hashlib.md5).hexdigest().upper()
    assert sign(params, "S", "hmac-sha256") == (
        hmac.new(b"S", b"a1b2", hashlib.sha256).hexdigest().upper()
    )


@pytest.mark.parametrize("sign_method", ["md5", "hmac", "hmac-sha256"])
def test_every_documented_sign_method_is_accepted(double, sign_method) -> None:
    signed = make_client(double, sign_method=sign_method)
    assert signed.read_stock(SKU) == 100
    signed.close()


def test_paging_reads_every_trade_of_the_window_once(double, client) -> None:
    for n in range(10):
        place(double, n, T0 + timedelta(minutes=n))
    trades = pull(client, T0, T0 + timedelta(minutes=30), 3)
    assert sorted(o.platform_order_id for o in trades) == [tid(n) for n in range(10)]
    calls = double.state.calls["taobao.trades.sold.increment.get"]
    assert calls == 5  # page 1 to count, then pages 4, 3, 2, 1


def test_a_window_longer_than_a_day_is_read_in_chunks(double, client) -> None:
    since, until = T0, T0 + timedelta(hours=26)
    place(double, 1, since - timedelta(seconds=1))
    place(double, 2, since)
    place(double, 3, since + timedelta(hours=12, seconds=1))
    place(double, 4, until - timedelta(seconds=1))
    place(double, 5, until)
    place(double, 6, since - timedelta(days=2))
    double.cancel_order(tid(6), at=since + timedelta(hours=25))
    trades = {o.platform_order_id: o for o in pull(client, since, until, 40)}
    assert sorted(trades) == [tid(n) for n in (2, 3, 4, 6)]
    assert trades[tid(6)].status is PlatformOrderStatus.CANCELLED


def test_trades_carry_the_platform_values_in_fen_and_utc(double, client) -> None:
    ship_by = T0 + timedelta(days=3)
    double.add_order(
        tid(1),
        ITEM,
        SKU_ID,
        2,
        "39.80",
        paid_at=T0,
        estimate_con_time=ship_by,
        buyer_open_uid="AAHm5d-EAAeGwJedwSHpg8bT",
    )
    place(double, 2, T0, status="WAIT_BUYER_PAY")
    place(double, 3, T0)
    double.ship_order(tid(3), at=T0 + timedelta(minutes=1))
    place(double, 4, T0)
    double.ship_order(tid(4), at=T0 + timedelta(minutes=1))
    double.cancel_order(tid(4), at=T0 + timedelta(minutes=2))  # refunded after shipping
    trades = {o.platform_order_id: o for o in pull(client, T0, T0 + HOUR, 40)}
    paid = trades[tid(1)]
    assert paid.status is PlatformOrderStatus.PAID
    assert paid.paid_at == T0 and paid.updated_at == T0
    assert paid.promised_ship_by == ship_by
    assert paid.buyer == "AAHm5d-EAAeGwJedwSHpg8bT"
    (line,) = paid.lines
    assert (line.platform_item_id, line.platform_sku_id, line.quantity, line.paid_fen) == (
        ITEM,
        SKU_ID,
        2,
        3980,
    )
    assert trades[tid(2)].status is PlatformOrderStatus.UNPAID
    assert trades[tid(2)].paid_at is None
    assert trades[tid(3)].status is PlatformOrderStatus.SHIPPED
    assert trades[tid(4)].status is PlatformOrderStatus.SHIPPED


def test_a_scripted_burst_takes_and_returns_platform_stock(double, client) -> None:
    for n in range(20):
        place(double, n, T0 + timedelta(seconds=n))
    for n in range(5):
        double.cancel_order(tid(n), at=T0 + timedelta(minutes=1))
    assert client.read_stock(SKU) == 100 - 20 + 5
    statuses = [o.status for o in pull(client, T0, T0 + HOUR, 7)]
    assert statuses.count(PlatformOrderStatus.PAID) == 15
    assert statuses.count(PlatformOrderStatus.CANCELLED) == 5


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"app_secret": "not-the-secret"}, "25"),
        ({"session": "not-the-session"}, "invalid-sessionkey"),
        ({"app_key": "87654321"}, "29"),
    ],
)
def test_bad_credentials_are_auth_errors(double, overrides, code) -> None:
    bad = make_client(double, **overrides)
    with pytest.raises(AuthError) as caught:
        bad.read_stock(SKU)
    assert caught.value.code == code
    bad.close()


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


def test_app_call_limited_is_rate_limited_with_the_ban_length(double, client) -> None:
    double.faults.rate_limit_per_s = 2
    client.read_stock(SKU)
    client.read_stock(SKU)
    with pytest.raises(RateLimitedError) as caught:
        client.read_stock(SKU)
    assert caught.value.code == "accesscontrol.limited-by-app-access-count"
    assert caught.value.retry_after == 1.0


def test_set_stock_is_absolute_and_change_stock_incremental(double, client) -> None:
    client.set_stock(SKU, 40)
    assert double.stock_of(ITEM, SKU_ID) == 40
    client.change_stock(SKU, 5)
    client.change_stock(SKU, -15)
    assert client.read_stock(SKU) == 30
    client.set_stock(SKU, 0)
    assert client.read_stock(SKU) == 0
    assert double.state.stock_changes == 4


def test_stock_never_goes_below_zero(double, client) -> None:
    client.set_stock(SKU, 3)
    with pytest.raises(RejectedError) as caught:
        client.change_stock(SKU, -4)
    assert caught.value.code == "isv.invalid-parameter:quantity"
    with pytest.raises(RejectedError):
        client.set_stock(SKU, -1)
    assert client.read_stock(SKU) == 3


def test_an_unknown_sku_is_rejected(double, client) -> None:
    with pytest.raises(RejectedError) as caught:
        client.read_stock(SkuRef(ITEM, "999"))
    assert caught.value.code == "isv.invalid-parameter:sku_id"
    with pytest.raises(RejectedError):
        client.set_stock(SkuRef("1", "2"), 1)
    with pytest.raises(RejectedError):
        client.read_stock(SkuRef(ITEM, ""))


def test_a_change_applied_before_a_failure_counts_once(double, client) -> None:
    double.faults.apply_then_fail_next = 1
    with pytest.raises(UnavailableError):
        client.change_stock(SKU, 5)
    assert client.read_stock(SKU) == 105  # applied once; the caller re-reads, not resends
    assert double.state.stock_changes == 1


def test_duplicate_deliveries_repeat_the_same_trades(double, client) -> None:
    double.faults.duplicate_orders = True
    for n in range(4):
        place(double, n, T0 + timedelta(minutes=n))
    trades = pull(client, T0, T0 + timedelta(minutes=30), 3)
    assert len(trades) == 8
    by_id: dict[str, list[PlatformOrder]] = {}
    for trade in trades:
        by_id.setdefault(trade.platform_order_id, []).append(trade)
    assert len(by_id) == 4
    assert all(len(copies) == 2 and copies[0] == copies[1] for copies in by_id.values())


def test_no_secret_or_session_in_errors_logs_or_repr(double, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(double)
    errors: list[PlatformError] = []
    others: list[TaobaoClient] = []

    def collect(call: Any) -> None:
        try:
            call()
        except PlatformError as exc:
            errors.append(exc)

    def other(**overrides: Any) -> TaobaoClient:
        others.append(make_client(double, **overrides))
        return others[-1]

    double.faults.fail_next = 1
    collect(lambda: client.read_stock(SKU))
    double.faults.apply_then_fail_next = 1
    collect(lambda: client.change_stock(SKU, 1))
    collect(lambda: client.change_stock(SKU, -1000))
    collect(lambda: client.read_stock(SkuRef(ITEM, "1")))
    collect(lambda: other(session="x" * 24).read_stock(SKU))
    collect(lambda: other(app_secret="y" * 24).read_stock(SKU))
    double.faults.rate_limit_per_s = 0
    collect(lambda: client.read_stock(SKU))
    double.faults.rate_limit_per_s = None
    collect(lambda: other(server_url=f"http://127.0.0.1:{free_port()}").read_stock(SKU))
    assert len(errors) == 8
    secrets = (double.app_secret, double.session, "x" * 24, "y" * 24)
    texts = [f"{e} {e!r} {e.args} {e.code}" for e in errors]
    texts += [repr(client), *(r.getMessage() for r in caplog.records)]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    for made in (client, *others):
        made.close()


def raw(double: TaobaoDouble, **business: str) -> dict[str, Any]:
    """A correctly signed TOP call the client would never make."""
    params = {
        "app_key": double.app_key,
        "session": double.session,
        "timestamp": top_time(datetime.now(UTC)),
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
        **business,
    }
    params["sign"] = sign(params, double.app_secret, "md5")
    answer: dict[str, Any] = httpx.post(f"{double.url}/router/rest", data=params).json()
    error: dict[str, Any] = answer.get("error_response", answer)
    return error


def test_the_double_refuses_what_the_docs_refuse(double) -> None:
    window = {
        "method": "taobao.trades.sold.increment.get",
        "fields": "tid",
        "start_modified": top_time(T0),
    }
    over_a_day = raw(double, **window, end_modified=top_time(T0 + timedelta(days=1, seconds=1)))
    assert over_a_day["sub_code"] == "isv.invalid-parameter"
    stale = top_time(datetime.now(UTC) - timedelta(minutes=11))
    assert raw(double, **window, end_modified=top_time(T0 + HOUR), timestamp=stale)["code"] == 31
    assert raw(double, **window, end_modified=top_time(T0 + HOUR), format="xml")["code"] == 23
    assert raw(double, method="taobao.item.seller.get")["code"] == 22
    update = {"method": "taobao.item.quantity.update", "num_iid": ITEM, "quantity": "5"}
    assert raw(double, **update)["sub_code"] == "isv.item-quantity-item-update-service-error"
    assert "item_quantity_update_response" in raw(double, **update, sku_id=SKU_ID, type="2")
    assert double.stock_of(ITEM, SKU_ID) == 105
