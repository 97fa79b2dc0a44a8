"""Douyin shop (抖店) open platform adapter: :class:`DouyinClient` implements
:class:`~tierstock.platforms.base.PlatformClient`.

Which documented API each need uses, and why:

- **Orders in** — ``order.searchList`` (/order/searchList, op.jinritemai.com api-docs
  15/1342): the only list that filters on the order's *update* time
  (``update_time_start`` / ``update_time_end``, seconds), so a changed order (paid,
  cancelled, shipped) comes back in the window of its change. It pages with ``page``
  (from 0) and ``size`` (at most 100) and answers ``total``. We sort by
  ``order_by=update_time`` descending and read the pages **from the last to the first**:
  an order changed while we page leaves the window and shifts the later pages up, which
  then repeats an order already read but never skips one (the same advice Taobao's docs
  give for their increment list). The first call of a window reads page 0 to learn
  ``total``; when there is more than one page, the last page is read next. Give an
  ``until`` a little in the past so no order can *enter* the window while paging. The
  window edges are whole seconds on the platform; the client keeps exactly
  ``since <= update_time < until`` itself.
- **Stock read** — ``sku.stockNum`` (/sku/stockNum, api-docs 34/936): the SKU's
  ``stock_num`` and nothing else, cheaper than ``sku.detail`` / ``product.detail``.
- **Stock write** — ``sku.syncStock`` (/sku/syncStock, api-docs 34/155): with
  ``incremental=false`` it sets the figure (:meth:`DouyinClient.set_stock`); with
  ``incremental=true`` it adds ``stock_num`` (negative to remove) and requires an
  ``idempotent_id`` (:meth:`DouyinClient.change_stock` sends a fresh one per call, so a
  caller's deliberate second change is not refused as a duplicate). The platform refuses
  a decrement below zero.

Every call is a POST to ``{server_url}/{method with / for .}`` with the business fields
as one JSON body (``param_json``: keys sorted, compact, non-ASCII kept) and ``app_key``,
``method``, ``v=2``, ``timestamp`` (Unix seconds), ``sign_method``, ``sign`` and
``access_token`` in the query, as the official SDKs do. :func:`sign` is the documented
signature (guide-docs 10/23): ``app_key…method…param_json…timestamp…v2`` wrapped in the
app secret, then MD5, or HMAC-SHA256 keyed with the secret; lowercase hex. The access
token is not signed.

Answers carry ``code`` (10000 = success), ``msg``, ``sub_code``, ``sub_msg`` (platform
error codes, guide-docs 212/1427); they map onto the base errors: 60000 →
:class:`RateLimitedError`; 20000/20001 and HTTP 5xx, timeouts, cut connections →
:class:`UnavailableError`; 30001/30002 and the app-key / signature / token sub-codes →
:class:`AuthError`; anything else → :class:`RejectedError`. Money is in fen as on the
platform; times are Unix seconds, turned into aware UTC datetimes. The app secret and the
access token never appear in an error, a log line or a repr (httpx's own request log
line has the token redacted).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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
from tierstock.platforms.http import json_or_none, redact_request_logs, send

DEFAULT_SERVER_URL = "https://openapi-fxg.jinritemai.com"
SIGN_METHODS = ("md5", "hmac-sha256")
MAX_PAGE_SIZE = 100  # order.searchList: "单页大小，限制100以内"
SUCCESS = 10000

# order_status of order.searchList: 1 待支付, 105 已支付, 2 备货中 (待发货), 101 部分发货,
# 3 已发货, 4 已取消, 5 已完成. A partly shipped order still owes units: PAID
# (assumption: tierstock treats the unshipped rest as promised).
ORDER_STATUS = {
    1: PlatformOrderStatus.UNPAID,
    105: PlatformOrderStatus.PAID,
    2: PlatformOrderStatus.PAID,
    101: PlatformOrderStatus.PAID,
    3: PlatformOrderStatus.SHIPPED,
    5: PlatformOrderStatus.SHIPPED,
    4: PlatformOrderStatus.CANCELLED,
}

# Platform error codes (guide-docs 212/1427) that mean "the credentials do not work".
AUTH_CODES = frozenset({30001, 30002})
AUTH_SUB_CODES = frozenset(
    {
        "isv.signature-missing",
        "isv.app-id-missing",
        "isv.access-token-missing",
        "isv.signature-invalid",
        "isv.access-token-expired",
        "isv.access-token-no-existed",
        "isv.access-token-invalid",
        "isv.app-id-invalid",
        "isv.app-id-expired",
        "isv.authorization-type-invalid",
    }
)
UNAVAILABLE_CODES = frozenset({20000, 20001})
RATE_LIMITED_CODE = 60000


def encode_params(params: Mapping[str, Any]) -> str:
    """The business fields as the platform signs them: one JSON object, keys sorted,
    no spaces, non-ASCII characters as themselves (the official SDKs' marshalling)."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(
    app_key: str,
    app_secret: str,
    method: str,
    param_json: str,
    timestamp: str,
    *,
    v: str = "2",
    sign_method: str = "hmac-sha256",
) -> str:
    """The documented request signature (lowercase hex).

    ``secret + "app_key" + app_key + "method" + method + "param_json" + param_json +
    "timestamp" + timestamp + "v" + v + secret``, then MD5 of it, or HMAC-SHA256 of it
    keyed with the secret.
    """
    pattern = f"app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v{v}"
    wrapped = f"{app_secret}{pattern}{app_secret}".encode()
    if sign_method == "md5":
        return hashlib.md5(wrapped).hexdigest()
    if sign_method == "hmac-sha256":
        return hmac.new(app_secret.encode(), wrapped, hashlib.sha256).hexdigest()
    raise ValueError(f"unsupported sign_method {sign_method!r} (use one of {SIGN_METHODS})")


def _numeric_id(value: str, field: str) -> int:
    """Douyin ids are JSON numbers (19 digits for a product)."""
    if not value.isdigit():
        raise RejectedError(f"douyin {field} must be a number, got {value!r}")
    return int(value)


def _utc(seconds: object) -> datetime | None:
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC)


class DouyinClient:
    """One Douyin shop, through its app key, app secret and access token."""

    platform = "douyin"

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        access_token: str,
        server_url: str = DEFAULT_SERVER_URL,
        sign_method: str = "hmac-sha256",
        timeout_s: float = 10.0,
    ) -> None:
        if sign_method not in SIGN_METHODS:
            raise ValueError(f"unsupported sign_method {sign_method!r}")
        self._app_key = app_key
        self._secret = app_secret
        self._token = access_token
        self._server_url = server_url.rstrip("/")
        self._sign_method = sign_method
        self._http = httpx.Client(timeout=timeout_s)
        redact_request_logs()

    def __repr__(self) -> str:
        return f"DouyinClient(server_url={self._server_url!r}, app_key={self._app_key!r})"

    # --- PlatformClient ----------------------------------------------------------------
    def list_orders(
        self, since: datetime, until: datetime, cursor: str | None, page_size: int
    ) -> OrderPage:
        size = min(max(page_size, 1), MAX_PAGE_SIZE)
        if cursor is None:
            first = self._search(since, until, 0, size)
            pages = math.ceil(_int(first.get("total"), "total") / size)
            if pages <= 1:
                return OrderPage(self._orders(first, since, until), None)
            page = pages - 1  # read backwards from the oldest page (module docstring)
        else:
            if not cursor.isdigit():
                raise ValueError(f"not a douyin order cursor: {cursor!r}")
            page = int(cursor)
        data = self._search(since, until, page, size)
        return OrderPage(self._orders(data, since, until), str(page - 1) if page else None)

    def read_stock(self, sku: SkuRef) -> int:
        data = self._call("sku.stockNum", {"sku_id": _numeric_id(sku.platform_sku_id, "sku_id")})
        # stock_num, the 普通库存 (sku_type 0) the docs define; assumption: that is the
        # figure buyers see (prehold / activity stock are not subtracted)
        return _int(data.get("stock_num"), "stock_num")

    def change_stock(self, sku: SkuRef, delta: int) -> None:
        if delta == 0:
            return
        self._sync_stock(sku, delta, incremental=True)

    def set_stock(self, sku: SkuRef, figure: int) -> None:
        self._sync_stock(sku, figure, incremental=False)

    def close(self) -> None:
        self._http.close()

    # --- the calls -----------------------------------------------------------------------
    def _search(self, since: datetime, until: datetime, page: int, size: int) -> dict[str, Any]:
        return self._call(
            "order.searchList",
            {
                "update_time_start": math.floor(since.timestamp()),
                "update_time_end": math.ceil(until.timestamp()),
                "order_by": "update_time",
                "order_asc": False,
                "page": page,
                "size": size,
            },
        )

    def _sync_stock(self, sku: SkuRef, stock_num: int, *, incremental: bool) -> None:
        params: dict[str, Any] = {
            "product_id": _numeric_id(sku.platform_item_id, "product_id"),
            "sku_id": _numeric_id(sku.platform_sku_id, "sku_id"),
            "incremental": incremental,
            "stock_num": stock_num,
        }
        if incremental:
            params["idempotent_id"] = uuid.uuid4().hex
        self._call("sku.syncStock", params)

    def _call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        body = encode_params(params)
        timestamp = str(int(time.time()))
        query = {
            "app_key": self._app_key,
            "method": method,
            "v": "2",
            "timestamp": timestamp,
            "sign_method": self._sign_method,
            "sign": sign(
                self._app_key,
                self._secret,
                method,
                body,
                timestamp,
                sign_method=self._sign_method,
            ),
            "access_token": self._token,
        }
        url = f"{self._server_url}/{method.replace('.', '/')}"
        response = send(
            "douyin",
            method,
            lambda: self._http.post(
                url,
                params=query,
                content=body.encode(),
                headers={"Content-Type": "application/json"},
            ),
        )
        return self._unwrap(method, response)

    def _unwrap(self, method: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        payload = json_or_none("douyin", method, response)
        if not isinstance(payload, dict) or "code" not in payload:
            if status == 200:
                raise UnavailableError(f"douyin {method}: unreadable answer")
            if status == 429:
                raise RateLimitedError(f"douyin {method}: HTTP 429")
            raise RejectedError(f"douyin {method}: HTTP {status}")
        if payload["code"] == SUCCESS:
            data = payload.get("data")
            return data if isinstance(data, dict) else {}
        raise self._error(method, payload)

    def _error(self, method: str, payload: Mapping[str, Any]) -> PlatformError:
        code = payload.get("code")
        sub_code = str(payload.get("sub_code") or "")
        text = " ".join(
            str(part)
            for part in (code, sub_code, payload.get("msg"), payload.get("sub_msg"))
            if part
        )
        message = self._scrub(f"douyin {method}: {text}")
        ident = sub_code or str(code)
        if code == RATE_LIMITED_CODE:
            return RateLimitedError(message, code=ident)
        if code in UNAVAILABLE_CODES:
            return UnavailableError(message, code=ident)
        if code in AUTH_CODES or sub_code in AUTH_SUB_CODES:
            return AuthError(message, code=ident)
        return RejectedError(message, code=ident)

    def _scrub(self, text: str) -> str:
        for secret in (self._secret, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text

    # --- orders --------------------------------------------------------------------------
    def _orders(
        self, data: Mapping[str, Any], since: datetime, until: datetime
    ) -> tuple[PlatformOrder, ...]:
        rows = data.get("shop_order_list") or []
        if not isinstance(rows, list):
            raise UnavailableError("douyin order.searchList: unreadable shop_order_list")
        orders = (self._order(row) for row in rows)
        return tuple(o for o in orders if since <= o.updated_at < until)

    def _order(self, row: Any) -> PlatformOrder:
        if not isinstance(row, dict):
            raise UnavailableError("douyin order.searchList: unreadable order")
        order_id = str(row.get("order_id") or "")
        status = ORDER_STATUS.get(row.get("order_status"))  # type: ignore[arg-type]
        if status is None:
            raise RejectedError(
                f"douyin order {order_id}: unknown order_status {row.get('order_status')!r}"
            )
        updated_at = _utc(row.get("update_time"))
        if not order_id or updated_at is None:
            raise UnavailableError("douyin order.searchList: order without id or update_time")
        buyer = row.get("doudian_open_id")
        return PlatformOrder(
            platform_order_id=order_id,
            status=status,
            paid_at=_utc(row.get("pay_time")),
            updated_at=updated_at,
            promised_ship_by=_utc(row.get("exp_ship_time")),
            buyer=str(buyer) if buyer else None,
            lines=tuple(self._line(order_id, line) for line in row.get("sku_order_list") or []),
        )

    @staticmethod
    def _line(order_id: str, line: Any) -> PlatformOrderLine:
        if not isinstance(line, dict):
            raise UnavailableError(f"douyin order {order_id}: unreadable sku_order_list")
        product = line.get("product_id_str") or line.get("product_id")
        return PlatformOrderLine(
            platform_item_id=str(product),
            platform_sku_id=str(line.get("sku_id")),
            quantity=_int(line.get("item_num"), "item_num"),
            paid_fen=_int(line.get("pay_amount"), "pay_amount"),  # 支付金额（单位：分）
        )


def _int(value: object, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise UnavailableError(f"douyin answer: {field} is not a number")
