"""A loopback Kuaishou store (快手电商开放平台), built from the platform's public docs.

Served (GET and POST, query string and/or ``application/x-www-form-urlencoded`` body, as
"API调用说明" allows), each at the path the gateway builds from the method name (dots →
slashes): ``open.order.cursor.list``, ``open.order.detail``, ``open.item.sku.list.get``
and ``open.item.sku.stock.update``. docs/platforms/kuaishou.md says which page each
behaviour comes from and what is left out; ``# assumption:`` marks what the docs do not
settle.

The gateway checks, in order: the system parameters are there (``appkey``, ``method``
matching the path, ``version`` = 1, ``access_token``, ``timestamp``, ``signMethod`` MD5 or
HMAC_SHA256, ``sign``), the app key, the signature, then the token. This checker is
written apart from the client's ``sign`` on purpose, so a shared mistake cannot hide.

The store: SKU stock (``set_stock``, ``set_reserved``), orders in the documented
``orderList`` shape (``orderBaseInfo`` + ``orderItemInfo``), and helpers to script a live
burst — :meth:`KuaishouDouble.add_order`, :meth:`~KuaishouDouble.cancel_order`,
:meth:`~KuaishouDouble.refund`, :meth:`~KuaishouDouble.ship_order` — each giving the
order a new ``updateTime`` (strictly increasing, so the cursor order is deterministic).
A sale takes the units from the SKU's platform stock; a cancel or refund before
shipping gives them back (assumption: the usual platform behaviour, not documented).
"""

from __future__ import annotations

import base64
import bisect
import copy
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tierstock.testing.platforms.base import Handler, PlatformDouble

BusinessHandler = Callable[[dict[str, Any]], Response]

ORDER_LIST = "open.order.cursor.list"
ORDER_DETAIL = "open.order.detail"
SKU_LIST = "open.item.sku.list.get"
STOCK_UPDATE = "open.item.sku.stock.update"

SYSTEM_PARAMS: Final = ("appkey", "method", "version", "access_token", "timestamp", "signMethod")
SIGNED: Final = ("access_token", "appkey", "method", "param", "signMethod", "timestamp", "version")
NO_MORE: Final = "nomore"
DAY_MS: Final = 86_400_000
MAX_PAGE_SIZE: Final = 50  # "每页请求数量 最多一页50条"
MAX_WINDOW_MS: Final = 7 * DAY_MS  # "与开始时间的时间范围不大于7天"
LOOKBACK_MS: Final = 90 * DAY_MS  # "不能小于90天前"
STOCK_CEILING: Final = 9_999_999  # skuChangeStock in (0, 9999999); stock + change ≤ 9999999
DEFAULT_PROMISE_MS: Final = 48 * 3_600_000  # assumption: 48 h to ship when not given

# orderBaseInfo.status
UNPAID, PAID, SHIPPED, SIGNED_FOR, SUCCESS, CLOSED = 10, 30, 40, 50, 70, 80
# orderViewStatus → the statuses it selects (1 = all; 0 "未知" taken as all too)
VIEWS: Final[dict[int, tuple[int, ...]]] = {
    2: (UNPAID,),
    3: (PAID,),
    4: (SHIPPED,),
    5: (SIGNED_FOR,),
    6: (SUCCESS,),
    7: (CLOSED,),
}
REFUND_SUCCEEDED: Final = 60  # refundStatus [60, "退款成功"]

# Gateway answers ("APP授权说明" §4; 100200114 / 100200410: assumption, from the
# KwaiOpenResultCode enum of Kuaishou's open-platform SDK).
INVALID_REQUEST: Final = 100200100
UNAUTHORIZED_CLIENT: Final = 100200101
ACCESS_DENIED: Final = 100200102
SIGN_VERIFY_FAIL: Final = 100200114
API_RATE_LIMIT: Final = 100200410


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return int(moment.timestamp() * 1000)


def _number(value: object) -> int | None:
    """A JSON Long as Kuaishou sends it: an integer, or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _numeric_id(value: str, what: str) -> str:
    if not value.isdigit() or int(value) <= 0:
        raise ValueError(f"a Kuaishou {what} is a positive number, not {value!r}")
    return str(int(value))


class KuaishouDouble(PlatformDouble):
    """One Kuaishou store behind a real HTTP server on loopback.

    ``app_key``, ``sign_secret`` and ``access_token`` are the credentials it accepts;
    ``clock`` (seconds since the epoch) drives order times, token expiry and the 90-day
    look-back, so a test can hold time still.
    """

    name = "kuaishou"

    def __init__(
        self,
        *,
        app_key: str = "ks_double_app",
        sign_secret: str = "double-sign-secret",
        access_token: str = "double-access-token",
        token_ttl_s: float = 172_800.0,  # "expires_in … 默认为172800，即48小时"
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.app_key = app_key
        self.sign_secret = sign_secret
        self.access_token = access_token
        self.clock = clock
        self.reserved: dict[tuple[str, str], int] = {}
        self.http_methods: Counter[tuple[str, str]] = Counter()  # (GET|POST, api)
        self._tokens: dict[str, float] = {access_token: clock() + token_ttl_s}
        self._next_oid = 2_300_000_000_000_001
        self._next_refund_id = 1_600_000_000_000_001
        self._last_change_ms = 0

    def __enter__(self) -> KuaishouDouble:
        self.start()
        return self

    # --- credentials, for tests ---------------------------------------------------------
    def expire_token(self, token: str | None = None) -> None:
        """The token (default: the store's) is past its expiry from now on."""
        with self.lock:
            self._tokens[token or self.access_token] = self.clock() - 1

    def issue_token(self, token: str, ttl_s: float = 172_800.0) -> None:
        with self.lock:
            self._tokens[token] = self.clock() + ttl_s

    # --- the store ------------------------------------------------------------------------
    def set_stock(self, item_id: str, sku_id: str, figure: int) -> None:
        """The SKU exists on the platform with ``figure`` units (Kuaishou ids are Longs)."""
        super().set_stock(_numeric_id(item_id, "item id"), _numeric_id(sku_id, "SKU id"), figure)

    def set_reserved(self, item_id: str, sku_id: str, units: int) -> None:
        """Units held for a promotion: a reduction may not take the stock below them."""
        with self.lock:
            self.reserved[(item_id, sku_id)] = units

    def add_order(
        self,
        item_id: str,
        sku_id: str,
        quantity: int = 1,
        *,
        unit_price_fen: int = 1000,
        promise_ship_by: datetime | None = None,
        paid_at: datetime | None = None,
        buyer: str | None = None,
    ) -> str:
        """A paid order (status 30) for one platform SKU; returns its ``oid``. If the SKU's
        stock is set, the sale takes ``quantity`` units from it (ValueError when sold out).
        ``promise_ship_by`` defaults to 48 h after payment (assumption)."""
        item_id = _numeric_id(item_id, "item id")
        sku_id = _numeric_id(sku_id, "SKU id")
        if quantity < 1:
            raise ValueError("an order holds at least one unit")
        with self.lock:
            key = (item_id, sku_id)
            if key in self.state.stock:
                if self.state.stock[key] < quantity:
                    raise ValueError(f"SKU {sku_id} is sold out on the platform")
                self.state.stock[key] -= quantity
            oid = self._next_oid
            self._next_oid += 1
            changed = self._change_ms()
            pay_ms = _ms(paid_at) if paid_at is not None else changed
            promise_ms = (
                _ms(promise_ship_by) if promise_ship_by is not None else pay_ms + DEFAULT_PROMISE_MS
            )
            self.state.orders.append(
                {
                    "orderBaseInfo": {
                        "oid": oid,
                        "status": PAID,
                        "payTime": pay_ms,
                        "createTime": min(pay_ms, changed),
                        "updateTime": changed,
                        "sendTime": 0,
                        "refundTime": 0,
                        "totalFee": unit_price_fen * quantity,
                        "discountFee": 0,
                        "expressFee": 0,
                        "promiseTimeStampOfDelivery": promise_ms,
                        "buyerOpenId": buyer or f"buyer-open-id-{oid % 100_000}",
                        "buyerNick": "",
                        "remark": "",
                        "cpsType": 1,
                        "preSale": 0,
                    },
                    "orderItemInfo": {
                        "orderItemId": oid * 10 + 1,
                        "itemId": int(item_id),
                        "skuId": int(sku_id),
                        "relItemId": 0,
                        "relSkuId": 0,
                        "num": quantity,
                        "price": unit_price_fen,
                        "originalPrice": unit_price_fen,
                        "discountFee": 0,
                        "itemTitle": f"item {item_id}",
                        "skuNick": "",
                        "skuDesc": "",
                    },
                    "orderRefundList": [],
                    "orderLogisticsInfo": [],
                }
            )
        return str(oid)

    def cancel_order(self, oid: str, *, restock: bool = True) -> None:
        """The order closes (status 80, "订单取消会转为该状态") with a new update time."""
        with self.lock:
            base = self._base(oid)
            self._close(base, restock)
            base["updateTime"] = self._change_ms()

    def refund(self, oid: str, *, restock: bool = True) -> None:
        """A full refund: a ``orderRefundList`` entry with refundStatus 60 (退款成功), the
        order closes (80; assumption for a shipped order too) with a new update time."""
        with self.lock:
            order = self._find(oid)
            base = order["orderBaseInfo"]
            changed = self._change_ms()
            order["orderRefundList"].append(
                {"refundId": self._next_refund_id, "refundStatus": REFUND_SUCCEEDED}
            )
            self._next_refund_id += 1
            base["refundTime"] = changed
            self._close(base, restock)
            base["updateTime"] = changed

    def ship_order(self, oid: str) -> None:
        """The merchant ships (30 → 40) with a new update time."""
        with self.lock:
            base = self._base(oid)
            if base["status"] != PAID:
                raise ValueError(f"order {oid} is not waiting to ship")
            changed = self._change_ms()
            base["status"] = SHIPPED
            base["sendTime"] = changed
            base["updateTime"] = changed

    def order(self, oid: str) -> dict[str, Any]:
        """A copy of the order as the platform keeps it."""
        with self.lock:
            return copy.deepcopy(self._find(oid))

    def _find(self, oid: str) -> dict[str, Any]:
        for order in self.state.orders:
            if str(order["orderBaseInfo"]["oid"]) == str(oid):
                return order
        raise KeyError(f"no order {oid}")

    def _base(self, oid: str) -> dict[str, Any]:
        base: dict[str, Any] = self._find(oid)["orderBaseInfo"]
        return base

    def _close(self, base: dict[str, Any], restock: bool) -> None:
        if restock and base["status"] == PAID:
            order = self._find(str(base["oid"]))
            item = order["orderItemInfo"]
            key = (str(item["itemId"]), str(item["skuId"]))
            if key in self.state.stock:
                self.state.stock[key] += item["num"]
        base["status"] = CLOSED

    def _change_ms(self) -> int:
        """Now in ms, strictly after the previous change (caller holds the lock)."""
        self._last_change_ms = max(int(self.clock() * 1000), self._last_change_ms + 1)
        return self._last_change_ms

    # --- serving -------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        apis: dict[str, BusinessHandler] = {
            ORDER_LIST: self._order_list,
            ORDER_DETAIL: self._order_detail,
            SKU_LIST: self._sku_list,
            STOCK_UPDATE: self._stock_update,
        }
        return [
            Route(
                "/" + api.replace(".", "/"),
                self.guarded(self._endpoint(api, handler)),
                methods=["GET", "POST"],
            )
            for api, handler in apis.items()
        ]

    def rate_limited(self) -> Response:
        """Kuaishou's QPS refusal, worded as "K1008 - API调用触发限流告警" quotes it; the
        ``result`` number is an assumption (KwaiOpenResultCode.API_RATE_LIMIT)."""
        limit = self.faults.rate_limit_per_s
        return self._gateway_error(
            API_RATE_LIMIT,
            "api_rate_limit",
            f"Exceed qps limit, KEY [appkey:{self.app_key}], MAX_QPS [{limit}]",
        )

    def _endpoint(self, api: str, handler: BusinessHandler) -> Handler:
        async def run(request: Request) -> Response:
            params: dict[str, str] = dict(request.query_params)
            if request.method == "POST":
                form = await request.form()
                params.update({k: v for k, v in form.multi_items() if isinstance(v, str)})
            with self.lock:
                self.state.calls[api] += 1
                self.http_methods[(request.method, api)] += 1
            refusal = self._gate(api, params)
            if refusal is not None:
                return refusal
            try:
                business = json.loads(params.get("param") or "{}")
            except json.JSONDecodeError:
                return self._gateway_error(
                    INVALID_REQUEST, "invalid_request", "param不是合法的JSON"
                )
            if not isinstance(business, dict):
                return self._gateway_error(INVALID_REQUEST, "invalid_request", "param不是JSON对象")
            return handler(business)

        return run

    def _gate(self, api: str, params: dict[str, str]) -> Response | None:
        missing = [name for name in (*SYSTEM_PARAMS, "sign") if not params.get(name)]
        if missing:
            return self._gateway_error(
                INVALID_REQUEST, "invalid_request", "缺少必要的请求参数: " + ",".join(missing)
            )
        # assumption: the gateway refuses a method that is not the one its path names.
        if params["method"] != api:
            return self._gateway_error(INVALID_REQUEST, "invalid_request", "method与请求路径不一致")
        if params["version"] != "1":  # "目前版本都为1"
            return self._gateway_error(INVALID_REQUEST, "invalid_request", "version无效")
        if params["signMethod"] not in ("MD5", "HMAC_SHA256"):
            return self._gateway_error(INVALID_REQUEST, "invalid_request", "signMethod无效")
        if not params["timestamp"].isdigit():
            return self._gateway_error(INVALID_REQUEST, "invalid_request", "timestamp无效")
        if params["appkey"] != self.app_key:
            return self._gateway_error(UNAUTHORIZED_CLIENT, "unauthorized_client", "app 非法")
        if not hmac.compare_digest(self._expected_sign(params).encode(), params["sign"].encode()):
            return self._gateway_error(SIGN_VERIFY_FAIL, "sign_verify_fail", "签名校验失败")
        with self.lock:
            expiry = self._tokens.get(params["access_token"])
            now = self.clock()
        if expiry is None:
            return self._gateway_error(ACCESS_DENIED, "access_denied", "鉴权失败")
        if expiry <= now:
            return self._gateway_error(ACCESS_DENIED, "access_denied", "TOKEN过期")
        return None

    def _expected_sign(self, params: dict[str, str]) -> str:
        """The "API调用说明" §4 rule: the signed parameters by name, ``k=v`` with ``&``, then
        ``&signSecret=``; MD5 hex (lowercase, as Java's md5Hex) or Base64 HMAC-SHA256."""
        present = sorted((name, params[name]) for name in SIGNED if name in params)
        text = "&".join(f"{name}={value}" for name, value in present)
        text += "&signSecret=" + self.sign_secret
        if params["signMethod"] == "MD5":
            return hashlib.md5(text.encode("utf-8")).hexdigest()
        mac = hmac.new(self.sign_secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256)
        return base64.b64encode(mac.digest()).decode("ascii")

    # --- answers ---------------------------------------------------------------------------
    @staticmethod
    def _ok(data: dict[str, Any] | None = None) -> Response:
        body: dict[str, Any] = {"result": 1}
        if data is not None:
            body["data"] = data
        return JSONResponse(body)

    @staticmethod
    def _gateway_error(result: int, error: str, message: str) -> Response:
        # "APP授权说明": 异常返回值 result / error / error_msg. assumption: HTTP 200.
        return JSONResponse({"result": result, "error": error, "error_msg": message})

    @staticmethod
    def _business_error(message: str) -> Response:
        # The shape of a refused open.order.cursor.list ("endTime无效") seen from the
        # platform: result 2001, code 807000, msg 业务处理失败, sub_code/sub_msg.
        # assumption: every business refusal of the double answers in this shape.
        return JSONResponse(
            {
                "result": 2001,
                "code": "807000",
                "msg": "业务处理失败",
                "error_msg": message,
                "sub_code": "2001",
                "sub_msg": message,
            }
        )

    # --- open.order.cursor.list --------------------------------------------------------
    def _order_list(self, biz: dict[str, Any]) -> Response:
        size = _number(biz.get("pageSize", 10))  # assumption: 10 when not given
        begin = _number(biz.get("beginTime"))
        end = _number(biz.get("endTime"))
        sort = _number(biz.get("sort", 1))  # "1时间降序 2时间升序 默认降序"
        query_type = _number(biz.get("queryType", 1))  # "1按创建时间 2按更新时间；默认创建时间"
        view = _number(biz.get("orderViewStatus", 1))
        cursor = biz.get("cursor", "")
        if size is None or not 1 <= size <= MAX_PAGE_SIZE:
            return self._business_error("pageSize无效")
        if begin is None:
            return self._business_error("beginTime无效")
        if end is None or end <= begin:
            return self._business_error("endTime无效")
        if end - begin > MAX_WINDOW_MS:
            return self._business_error("时间范围不能超过7天")
        if sort not in (1, 2) or query_type not in (1, 2) or view is None:
            return self._business_error("参数错误")
        if not isinstance(cursor, str):
            return self._business_error("cursor无效")
        field = "updateTime" if query_type == 2 else "createTime"
        descending = sort == 1
        with self.lock:
            if begin < int(self.clock() * 1000) - LOOKBACK_MS:
                return self._business_error("beginTime不能早于90天前")
            wanted = VIEWS.get(view)
            rows = sorted(
                (
                    order
                    for order in self.state.orders
                    if begin <= order["orderBaseInfo"][field] <= end
                    and (wanted is None or order["orderBaseInfo"]["status"] in wanted)
                ),
                key=lambda order: self._position(order, field, descending),
            )
            positions = [self._position(order, field, descending) for order in rows]
            try:
                page, next_cursor = self._page(
                    rows, positions, cursor, size, descending, self.faults.duplicate_orders
                )
            except ValueError:
                return self._business_error("cursor无效")
            order_list = copy.deepcopy(page)
        return self._ok(
            {
                "cursor": next_cursor,
                "orderList": order_list,
                "pageSize": size,
                "beginTime": begin,
                "endTime": end,
            }
        )

    @staticmethod
    def _position(order: dict[str, Any], field: str, descending: bool) -> tuple[int, int]:
        """Where an order stands in delivery order (time, then oid; negated when the
        caller asked for newest first)."""
        base = order["orderBaseInfo"]
        sign = -1 if descending else 1
        return (sign * int(base[field]), sign * int(base["oid"]))

    def _page(
        self,
        rows: list[dict[str, Any]],
        positions: list[tuple[int, int]],
        cursor: str,
        size: int,
        descending: bool,
        duplicate: bool,
    ) -> tuple[list[dict[str, Any]], str]:
        """Keyset paging: a cursor names the last order delivered ("<time>_<oid>"), so an
        order that changes mid-paging is delivered again later rather than skipped.

        With ``faults.duplicate_orders`` a cursor names two boundaries ("<prev>~<cur>")
        and each page repeats the previous page's orders: every order comes twice."""

        sign = -1 if descending else 1

        def after(boundary: str) -> int:
            if boundary == "":
                return 0
            time_part, separator, oid_part = boundary.partition("_")
            if not separator:
                raise ValueError(boundary)
            return bisect.bisect_right(positions, (sign * int(time_part), sign * int(oid_part)))

        def boundary_at(index: int) -> str:
            time_value, oid = positions[index]
            return f"{sign * time_value}_{sign * oid}"

        if not duplicate:
            start = after(cursor.rpartition("~")[2])
            stop = min(start + size, len(rows))
            chunk = rows[start:stop]
            return chunk, boundary_at(stop - 1) if chunk and stop < len(rows) else NO_MORE
        previous, _, current = cursor.partition("~") if "~" in cursor else ("-", "", cursor)
        first = [] if previous == "-" else rows[after(previous) : after(previous) + size]
        start = after(current)
        stop = min(start + size, len(rows))
        chunk = rows[start:stop]
        if not chunk:
            return first, NO_MORE
        return first + chunk, f"{current}~{boundary_at(stop - 1)}"

    # --- open.order.detail -----------------------------------------------------------------
    def _order_detail(self, biz: dict[str, Any]) -> Response:
        oid = _number(biz.get("oid"))
        if oid is None:
            return self._business_error("oid无效")
        with self.lock:
            try:
                order = copy.deepcopy(self._find(str(oid)))
            except KeyError:
                return self._business_error("订单不存在")  # assumption: wording
        return self._ok(order)

    # --- open.item.sku.list.get ----------------------------------------------------------------
    def _sku_list(self, biz: dict[str, Any]) -> Response:
        item = _number(biz.get("kwaiItemId"))
        if item is None:
            return self._business_error("kwaiItemId无效")
        with self.lock:
            skus = [
                {
                    "kwaiItemId": item,
                    "kwaiSkuId": int(sku_id),
                    "relSkuId": 0,
                    "skuStock": figure,
                    "reserveStock": self.reserved.get((item_id, sku_id), 0),
                    "skuNick": "",
                    "isValid": 1,
                }
                for (item_id, sku_id), figure in sorted(self.state.stock.items())
                if item_id == str(item)
            ]
        if not skus:
            return self._business_error("商品不存在")  # assumption: wording
        return self._ok({"skuList": skus})

    # --- open.item.sku.stock.update ----------------------------------------------------------
    def _stock_update(self, biz: dict[str, Any]) -> Response:
        item = _number(biz.get("kwaiItemId"))
        sku = _number(biz.get("skuId"))
        change = _number(biz.get("skuChangeStock"))
        change_type = _number(biz.get("changeType"))
        if item is None or sku is None:
            return self._business_error("kwaiItemId或skuId无效")
        if change is None or not 0 < change < STOCK_CEILING:
            return self._business_error("库存变更数量取值范围：大于 0 小于 9999999")
        if change_type not in (1, 2):
            return self._business_error("changeType无效")
        key = (str(item), str(sku))
        with self.lock:
            if key not in self.state.stock:
                return self._business_error("sku不存在")  # assumption: wording
            current = self.state.stock[key]
            figure = current + change if change_type == 1 else current - change
            if change_type == 2 and figure < self.reserved.get(key, 0):
                # "K1001 - 当前库存不足，请减少预留库存": the platform's own answer.
                return JSONResponse({"result": 21, "error_msg": "当前库存不足，请减少预留数量"})
            if figure > STOCK_CEILING:
                return self._business_error("当前库存+ skuChangeStock 不能大于 9999999")
            self.state.stock[key] = figure
            self.state.stock_changes += 1
        if self.fail_after_applying():
            return JSONResponse({"error": "injected failure"}, status_code=503)
        return self._ok()
