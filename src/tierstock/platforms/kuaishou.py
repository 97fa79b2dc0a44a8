"""Kuaishou store adapter (快手电商开放平台): one store's orders and SKU stock.

Every call goes to ``<server_url>/open/<method with dots as slashes>`` with the
documented system parameters ``appkey``, ``method``, ``version`` (always ``1``),
``access_token``, ``timestamp`` (ms), ``signMethod`` and ``param`` (the business fields
as one JSON string), plus ``sign``. The signature (:func:`sign`) is the MD5 (lowercase
hex) or HMAC-SHA256 (key: the sign secret, output Base64) of those parameters sorted by
name, joined ``k=v`` with ``&``, with ``&signSecret=<secret>`` appended. Source: "API调用
说明" (open.kwaixiaodian.com/zone/new/docs/dev?pageSign=8cca5d25ba0015e5045a7ebec6383b74
1614263875756), whose Java sample Base64-encodes the HMAC; docs/platforms/kuaishou.md
lists every behaviour used here with its source.

Calls used: ``open.order.cursor.list`` (orders by update time, ``cursor`` paging until it
answers ``nomore``, at most 50 a page, windows of at most 7 days), ``open.order.detail``,
``open.item.sku.list.get`` (a SKU's ``skuStock``) and ``open.item.sku.stock.update``
(a delta: ``skuChangeStock`` > 0 with ``changeType`` 1 add / 2 reduce). Reads go as GET
and the stock update as POST with everything in the form body, as the docs declare them.

**Why not the PyPI ``kwaixiaodian`` package (1.0.3).** Its signing is right (it matches
:func:`sign` byte for byte; the tests carry vectors computed with it), but the rest does
not fit a client that must never apply a stock delta twice or leak a credential:

- its HTTP layer retries by default (3 times on 429/5xx, timeouts and cut connections),
  POSTs included, so one ``open.item.sku.stock.update`` may land up to four times;
- its response models are not the documented shapes: the order list is parsed into an
  invented ``Order`` model (``order_id``, ``order_status``, ``result`` as a list, a
  ``pcursor`` field) instead of ``data.orderList[].orderBaseInfo`` / ``data.cursor``,
  and success is "no ``error_code``" rather than ``result == 1`` — the documented stock
  refusal ``{"result": 21, "error_msg": "当前库存不足…"}`` (FAQ K1001) parses as a success;
- every failure becomes one ``KwaixiaodianAPIError`` (no rate-limit/auth/unavailable
  split), and with logging on it logs the request parameters, access token included;
- it pulls pendulum, orjson and cryptography into the dependency set for two calls.

So this is a thin client on httpx (already a dependency): no pin to add.

Errors: HTTP 429 or a documented rate/quota refusal ("Exceed qps limit …", "Exceed
quota limit …") → :class:`RateLimitedError`; HTTP 5xx, a timeout, a cut connection, an
unreadable answer or ``result`` 100200500 → :class:`UnavailableError`; the OAuth family
of ``result`` codes (token expired or revoked, bad app, bad signature) → :class:`AuthError`;
any other ``result`` ≠ 1 → :class:`RejectedError` with the platform's code. No message,
log line or repr carries the sign secret or the access token (GET URLs carry the token,
so the ``httpx`` request log line is redacted by a filter this module installs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from tierstock.platforms.base import (
    AuthError,
    OrderPage,
    PlatformError,
    PlatformOrder,
    PlatformOrderLine,
    PlatformOrderStatus,
    RateLimitedError,
    RejectedError,
    SkuRef,
    UnavailableError,
)
from tierstock.platforms.http import redact_request_logs

log = logging.getLogger(__name__)

GATEWAY: Final = "https://openapi.kwaixiaodian.com"
SIGN_METHODS: Final = ("MD5", "HMAC_SHA256")
# The parameters the signature covers (the docs' Java getSignParam): the other request
# fields, ``sign`` itself included, are not signed.
SIGNED_PARAMS: Final = (
    "access_token",
    "appkey",
    "method",
    "param",
    "signMethod",
    "timestamp",
    "version",
)
NO_MORE: Final = "nomore"  # the cursor that says the last page was served
MAX_PAGE_SIZE: Final = 50  # open.order.cursor.list: "每页请求数量 最多一页50条"
MAX_STOCK_CHANGE: Final = 9_999_999  # skuChangeStock must be below it

# ``result`` codes. 1 is success; the 1002001xx family is the OAuth/gateway one ("APP授权
# 说明" §4 lists 100200100–100200107 and 100200500; 100200108–100200115 and 100200410 are
# from Kuaishou's open-platform SDK enum KwaiOpenResultCode — assumption: the merchant
# gateway uses the same numbers).
RESULT_OK: Final = 1
INVALID_REQUEST: Final = 100200100
AUTH_RESULTS: Final = frozenset(
    {
        100200101,  # unauthorized_client: unknown app or developer
        100200102,  # access_denied: any token error (expired, revoked, unknown)
        100200106,  # invalid_scope
        100200107,  # invalid_openid
        100200108,  # token expired
        100200109,  # authorization revoked
        100200110,  # authorization expired
        100200111,  # never authorized
        100200113,  # refresh token expired
        100200114,  # signature check failed
        100200115,  # illegal related authorization
    }
)
RATE_LIMIT_RESULTS: Final = frozenset({100200410})
SERVER_ERROR_RESULTS: Final = frozenset({100200500})
# The refusals "K1008 - API调用触发限流告警" documents by their text.
RATE_LIMIT_TEXTS: Final = ("exceed qps limit", "exceed quota limit")

# orderBaseInfo.status ("订单状态"): 10 待付款, 30 已付款, 40 已发货, 50 已签收,
# 70 订单成功, 80 订单失败 (a cancelled order turns 80). 0 "未知状态" is not mapped.
STATUSES: Final[Mapping[int, PlatformOrderStatus]] = {
    10: PlatformOrderStatus.UNPAID,
    30: PlatformOrderStatus.PAID,
    40: PlatformOrderStatus.SHIPPED,
    50: PlatformOrderStatus.SHIPPED,
    70: PlatformOrderStatus.SHIPPED,
    80: PlatformOrderStatus.CANCELLED,
}


def api_path(method: str) -> str:
    """The gateway path of an API: ``open.order.cursor.list`` → ``/open/order/cursor/list``."""
    return "/" + method.replace(".", "/")


def sign(params: Mapping[str, str | None], secret: str, method: str) -> str:
    """The ``sign`` of a request: the signed parameters present (not None) sorted by
    name, ``k=v`` joined with ``&``, then ``&signSecret=<secret>``; MD5 → lowercase hex,
    HMAC_SHA256 (key = the secret) → Base64. Values are signed as sent, before any
    URL encoding."""
    text = "&".join(
        f"{name}={params[name]}" for name in sorted(SIGNED_PARAMS) if params.get(name) is not None
    )
    payload = f"{text}&signSecret={secret}".encode()
    if method == "MD5":
        return hashlib.md5(payload).hexdigest()
    if method == "HMAC_SHA256":
        digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")
    raise ValueError(f"unknown sign method {method!r} (expected one of {SIGN_METHODS})")


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


redact_request_logs()


class KuaishouClient:
    """:class:`~tierstock.platforms.base.PlatformClient` for one Kuaishou store.

    ``sign_method`` is ``HMAC_SHA256`` (the docs' recommendation) or ``MD5``. The HTTP
    connection pool is shared by the threads that use the client; :meth:`close` ends it.
    """

    platform = "kuaishou"

    def __init__(
        self,
        *,
        app_key: str,
        sign_secret: str,
        access_token: str,
        sign_method: str = "HMAC_SHA256",
        server_url: str = GATEWAY,
        timeout_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        max_connections: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if sign_method not in SIGN_METHODS:
            raise ValueError(f"sign_method must be one of {SIGN_METHODS}")
        if not (app_key and sign_secret and access_token):
            raise ValueError("app_key, sign_secret and access_token are all required")
        self.app_key = app_key
        self.sign_method = sign_method
        self.server_url = server_url.rstrip("/")
        self._sign_secret = sign_secret
        self._access_token = access_token
        self._clock = clock
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return (
            f"KuaishouClient(app_key={self.app_key!r}, server_url={self.server_url!r}, "
            f"sign_method={self.sign_method!r})"
        )

    # --- PlatformClient --------------------------------------------------------------
    def list_orders(
        self, since: datetime, until: datetime, cursor: str | None, page_size: int
    ) -> OrderPage:
        """Orders whose ``updateTime`` lies in [since, until), one page, oldest change
        first. ``page_size`` is held to 1–50 (the platform's maximum). The docs do not say
        whether ``endTime`` is inclusive, so ``until`` is sent as is and an order changed
        exactly at ``until`` is left to the next window."""
        begin, end = to_ms(since), to_ms(until)
        if end <= begin:  # the platform refuses endTime <= beginTime
            return OrderPage(orders=(), cursor=None)
        data = self._data(
            "open.order.cursor.list",
            {
                "orderViewStatus": 1,  # all statuses
                "pageSize": max(1, min(page_size, MAX_PAGE_SIZE)),
                "sort": 2,  # ascending
                "queryType": 2,  # by update time
                "beginTime": begin,
                "endTime": end,
                "cpsType": 0,  # ordinary and distribution orders
                "cursor": cursor or "",
            },
        )
        raw_orders = data.get("orderList") or []
        raw_cursor = data.get("cursor")
        if not isinstance(raw_orders, list) or not isinstance(raw_cursor, str | None):
            raise self._unreadable("open.order.cursor.list")
        orders = tuple(
            order
            for order in (self._order(raw, "open.order.cursor.list") for raw in raw_orders)
            if since <= order.updated_at < until
        )
        # "nomore" ends the paging; an empty cursor would restart it, so it ends it too.
        next_cursor = None if raw_cursor in (None, "", NO_MORE) else raw_cursor
        return OrderPage(orders=orders, cursor=next_cursor)

    def order_detail(self, platform_order_id: str) -> PlatformOrder:
        """One order (``open.order.detail``)."""
        data = self._data("open.order.detail", {"oid": self._long(platform_order_id, "order id")})
        return self._order(data, "open.order.detail")

    def read_stock(self, sku: SkuRef) -> int:
        """The SKU's ``skuStock`` from ``open.item.sku.list.get``."""
        method = "open.item.sku.list.get"
        item_id = self._long(sku.platform_item_id, "item id")
        sku_id = self._long(sku.platform_sku_id, "SKU id")
        data = self._data(method, {"kwaiItemId": item_id, "skuStatus": 1})
        rows = data.get("skuList")
        if not isinstance(rows, list):
            raise self._unreadable(method)
        for row in rows:
            if isinstance(row, dict) and str(row.get("kwaiSkuId")) == str(sku_id):
                stock = row.get("skuStock")
                if not isinstance(stock, int):
                    raise self._unreadable(method)
                return stock
        raise RejectedError(
            f"kuaishou {method}: item {item_id} has no SKU {sku_id}", code="no_such_sku"
        )

    def change_stock(self, sku: SkuRef, delta: int) -> None:
        """``open.item.sku.stock.update`` by ``delta`` (1 = add, 2 = reduce). Never
        retried here: after an :class:`UnavailableError` the delta may have applied."""
        if delta == 0:
            return
        self._data(
            "open.item.sku.stock.update",
            {
                "kwaiItemId": self._long(sku.platform_item_id, "item id"),
                "skuId": self._long(sku.platform_sku_id, "SKU id"),
                "skuChangeStock": abs(delta),
                "changeType": 1 if delta > 0 else 2,
            },
            http_method="POST",
        )

    def set_stock(self, sku: SkuRef, figure: int) -> None:
        """Kuaishou has only the delta: read the figure, then change by the difference.
        Not atomic — a sale between the two calls shifts the result by that sale."""
        if figure < 0:
            raise ValueError("a stock figure cannot be negative")
        self.change_stock(sku, figure - self.read_stock(sku))

    def close(self) -> None:
        self._http.close()

    # --- the wire ----------------------------------------------------------------------
    def _data(
        self, method: str, business: Mapping[str, Any], *, http_method: str = "GET"
    ) -> dict[str, Any]:
        """Call ``method`` and return the answer's ``data`` ({} when it has none)."""
        body = self._call(method, business, http_method)
        data = body.get("data")
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise self._unreadable(method)
        return data

    def _call(self, method: str, business: Mapping[str, Any], http_method: str) -> dict[str, Any]:
        params: dict[str, str] = {
            "appkey": self.app_key,
            "method": method,
            "version": "1",
            "access_token": self._access_token,
            "timestamp": str(int(self._clock() * 1000)),
            "signMethod": self.sign_method,
            "param": json.dumps(business, ensure_ascii=False, separators=(",", ":")),
        }
        params["sign"] = sign(params, self._sign_secret, self.sign_method)
        url = self.server_url + api_path(method)
        started = time.monotonic()
        try:
            if http_method == "GET":
                response = self._http.get(url, params=params)
            else:
                response = self._http.post(url, data=params)
        except httpx.TimeoutException as exc:
            # ``from None``: httpx's exception holds the request, whose URL has the token.
            raise UnavailableError(
                f"kuaishou {method}: no answer in time ({type(exc).__name__})"
            ) from None
        except httpx.RequestError as exc:
            raise UnavailableError(
                f"kuaishou {method}: connection failed ({type(exc).__name__})"
            ) from None
        log.debug(
            "kuaishou %s: HTTP %d in %.0f ms",
            method,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return self._envelope(method, response)

    def _envelope(self, method: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if status == 429:
            raise RateLimitedError(f"kuaishou {method}: HTTP 429", code="http_429")
        if status >= 500:
            raise UnavailableError(f"kuaishou {method}: HTTP {status}", code=f"http_{status}")
        if status in (401, 403):
            raise AuthError(f"kuaishou {method}: HTTP {status}", code=f"http_{status}")
        if status != 200:
            raise RejectedError(f"kuaishou {method}: HTTP {status}", code=f"http_{status}")
        try:
            body = response.json()
        except ValueError:
            raise self._unreadable(method) from None
        if not isinstance(body, dict) or not isinstance(body.get("result"), int | str):
            raise self._unreadable(method)
        try:
            result = int(body["result"])
        except ValueError:
            raise self._unreadable(method) from None
        if result == RESULT_OK:
            return body
        raise self._refusal(method, result, body)

    def _refusal(self, method: str, result: int, body: Mapping[str, Any]) -> PlatformError:
        words = (
            str(body[k]) for k in ("error_msg", "sub_msg", "msg") if body.get(k) not in (None, "")
        )
        said = self._scrub(" / ".join(dict.fromkeys(words)))
        sub = body.get("sub_code")
        code = f"{result}/{sub}" if sub not in (None, "", str(result)) else str(result)
        message = f"kuaishou {method}: result {code}" + (f": {said}" if said else "")
        if result in RATE_LIMIT_RESULTS or any(t in said.lower() for t in RATE_LIMIT_TEXTS):
            return RateLimitedError(message, code=code)
        if result in AUTH_RESULTS:
            return AuthError(message, code=code)
        if result in SERVER_ERROR_RESULTS:
            return UnavailableError(message, code=code)
        return RejectedError(message, code=code)

    def _scrub(self, text: str) -> str:
        """The platform's words, with any credential it might echo masked, kept short."""
        for secret in (self._access_token, self._sign_secret):
            text = text.replace(secret, "***")
        return text[:300]

    @staticmethod
    def _unreadable(method: str) -> UnavailableError:
        return UnavailableError(f"kuaishou {method}: unreadable answer", code="unreadable")

    @staticmethod
    def _long(value: str, what: str) -> int:
        """Kuaishou ids are Longs; tierstock keeps them as strings."""
        try:
            number = int(value)
        except ValueError:
            raise RejectedError(f"kuaishou {what} {value!r} is not a number") from None
        if number <= 0:
            raise RejectedError(f"kuaishou {what} {value!r} is not a positive number")
        return number

    # --- answers → values ----------------------------------------------------------------
    def _order(self, raw: object, method: str) -> PlatformOrder:
        """One ``orderList`` entry (or ``open.order.detail`` data): ``orderBaseInfo`` +
        ``orderItemInfo`` (a Kuaishou order holds one SKU)."""
        if not isinstance(raw, dict):
            raise self._unreadable(method)
        try:
            base = raw["orderBaseInfo"]
            item = raw["orderItemInfo"]
            status_code = int(base["status"])
            pay_ms = int(base.get("payTime") or 0)
            promise_ms = int(base.get("promiseTimeStampOfDelivery") or 0)
            buyer = base.get("buyerOpenId") or None
            line = PlatformOrderLine(
                platform_item_id=str(int(item["itemId"])),
                platform_sku_id=str(int(item["skuId"])),
                quantity=int(item["num"]),
                paid_fen=int(base["totalFee"]),
            )
            order_id = str(int(base["oid"]))
            updated_at = from_ms(int(base["updateTime"]))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise self._unreadable(method) from None
        status = STATUSES.get(status_code)
        if status is None:
            # Guessing could hide a paid order: refuse the page loudly instead.
            raise RejectedError(
                f"kuaishou {method}: order {order_id} has status {status_code}, which "
                "tierstock cannot read",
                code=f"status_{status_code}",
            )
        return PlatformOrder(
            platform_order_id=order_id,
            status=status,
            paid_at=from_ms(pay_ms) if pay_ms > 0 else None,
            updated_at=updated_at,
            promised_ship_by=from_ms(promise_ms) if promise_ms > 0 else None,
            buyer=str(buyer) if buyer is not None else None,
            lines=(line,),
        )
