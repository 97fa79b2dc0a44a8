"""Loopback double of the Douyin shop (抖店) open platform, built from its documentation
(docs/platforms/douyin.md lists each behaviour and its page).

Three APIs, each a POST to its path with the common parameters in the query and the
business fields as a JSON body: ``order.searchList`` (/order/searchList),
``sku.syncStock`` (/sku/syncStock) and ``sku.stockNum`` (/sku/stockNum); any other path
answers 70000 ``isp.api-service-off``. Every call is checked as the platform does: app
key, signature (over the sorted ``param_json``, wrapped in the app secret, MD5 or
HMAC-SHA256), access token; refusals use the platform's envelope (``code``, ``msg``,
``sub_code``, ``sub_msg``, ``log_id``) and its error codes.

The store side: :meth:`DouyinDouble.add_order` places a paid order for one platform SKU
(money in fen, with the promised ship time ``exp_ship_time``), taking the units from the
platform's stock as a sale does; :meth:`cancel_order` and :meth:`ship_order` change it
later, so a test can script a live-stream burst.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tierstock.testing.platforms.base import Faults, PlatformDouble, StoreState

DEFAULT_APP_KEY = "7123456789012345678"  # 19 digits, as the platform requires
DEFAULT_APP_SECRET = "douyin-double-app-secret"
DEFAULT_ACCESS_TOKEN = "douyin-double-access-token"
DEFAULT_SHOP_ID = 4463798

STATUS_DESC = {
    1: "待支付",
    105: "已支付",
    2: "备货中",
    101: "部分发货",
    3: "已发货",
    4: "已取消",
    5: "已完成",
}
MAX_PAGE_SIZE = 100

Action = Callable[[dict[str, Any]], dict[str, Any]]


class Refusal(Exception):
    """A call the platform answers with an error envelope."""

    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(msg)
        self.body = envelope(code, msg, None, sub_code=sub_code, sub_msg=sub_msg)


def envelope(
    code: int, msg: str, data: dict[str, Any] | None, *, sub_code: str = "", sub_msg: str = ""
) -> dict[str, Any]:
    return {
        "code": code,
        "msg": msg,
        "sub_code": sub_code,
        "sub_msg": sub_msg,
        "log_id": secrets.token_hex(12),
        "data": data,
    }


def _platform_check(sub_code: str, sub_msg: str, *, missing: bool = False) -> Refusal:
    if missing:
        return Refusal(40001, "缺少必选参数（平台校验）", sub_code, sub_msg)
    return Refusal(40003, "非法的参数（平台校验）", sub_code, sub_msg)


def _invalid(sub_code: str, sub_msg: str) -> Refusal:
    return Refusal(40004, "非法的参数", sub_code, sub_msg)


def _seconds(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("use aware datetimes")
    return int(at.timestamp())


def _number(params: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    """A number field of param_json: a JSON number, or a string of one (assumption: the
    platform's older docs asked for every field as a string and still accept them)."""
    value = params.get(name)
    if value is None:
        if required:
            raise Refusal(40002, "缺少必选参数", f"isv.missing-parameter:{name}", f"缺少{name}")
        return None
    if isinstance(value, bool):
        raise Refusal(40003, "非法的参数（平台校验）", "isv.parameter-format-invalid", name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise Refusal(40003, "非法的参数（平台校验）", "isv.parameter-format-invalid", name)


def _timestamp_ok(value: str) -> bool:
    """Unix seconds (the current SDKs) or ``yyyy-MM-dd HH:mm:ss`` (the older docs)."""
    if value.isdigit():
        return True
    try:
        datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return True


class DouyinDouble(PlatformDouble):
    """The Douyin open platform for one shop, one app and one access token."""

    name = "douyin"

    def __init__(
        self,
        *,
        app_key: str = DEFAULT_APP_KEY,
        app_secret: str = DEFAULT_APP_SECRET,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        shop_id: int = DEFAULT_SHOP_ID,
    ) -> None:
        super().__init__()
        self.app_key = app_key
        self.app_secret = app_secret
        self.access_token = access_token
        self.shop_id = shop_id
        self.token_expired = False
        self._idempotent_ids: set[str] = set()
        self._taken: dict[str, tuple[tuple[str, str], int]] = {}

    def routes(self) -> list[Route]:
        return [
            Route("/order/searchList", self.guarded(self._search_list), methods=["POST"]),
            Route("/sku/syncStock", self.guarded(self._sync_stock), methods=["POST"]),
            Route("/sku/stockNum", self.guarded(self._stock_num), methods=["POST"]),
            Route("/{path:path}", self.guarded(self._unknown), methods=["GET", "POST"]),
        ]

    def rate_limited(self) -> Response:
        return JSONResponse(
            envelope(
                60000,
                "触发限流，请稍后重试",
                None,
                sub_code="isp.traffic-limited",
                sub_msg="请求过于频繁，请稍后重试",
            )
        )

    # --- the store, for tests and the demo -----------------------------------------------
    def add_order(
        self,
        order_id: str,
        item_id: str,
        sku_id: str,
        quantity: int,
        pay_amount: int,
        *,
        paid_at: datetime,
        exp_ship_time: datetime | None = None,
        buyer: str | None = None,
        updated_at: datetime | None = None,
        status: int = 2,
        take_stock: bool = True,
    ) -> dict[str, Any]:
        """A buyer's order of ``quantity`` units of one SKU, ``pay_amount`` fen paid.

        ``status`` 2 (备货中: paid, to ship) by default; 1 (待支付) places an unpaid one.
        A paid order takes its units from the platform's stock (refused, as the platform
        refuses the buyer, when there are not enough) unless ``take_stock`` is False.
        """
        if status not in STATUS_DESC:
            raise ValueError(f"unknown order_status {status}")
        paid = status != 1
        created = _seconds(paid_at)
        updated = _seconds(updated_at or paid_at)
        ship_by = _seconds(exp_ship_time) if exp_ship_time else 0
        line = {
            "order_id": f"{order_id}01",
            "parent_order_id": order_id,
            "order_level": 3,
            "order_status": status,
            "order_status_desc": STATUS_DESC[status],
            "product_id": int(item_id),
            "product_id_str": item_id,
            "sku_id": int(sku_id),
            "item_num": quantity,
            "origin_amount": pay_amount // max(quantity, 1),
            "sum_amount": pay_amount,
            "order_amount": pay_amount,
            "pay_amount": pay_amount,
            "create_time": created,
            "pay_time": created if paid else 0,
            "update_time": updated,
            "exp_ship_time": ship_by,
            "reduce_stock_type": 2,  # 支付减库存
        }
        order = {
            "order_id": order_id,
            "order_level": 2,
            "shop_id": self.shop_id,
            "order_status": status,
            "order_status_desc": STATUS_DESC[status],
            "main_status": status,
            "main_status_desc": STATUS_DESC[status],
            "create_time": created,
            "pay_time": created if paid else 0,
            "update_time": updated,
            "exp_ship_time": ship_by,
            "order_amount": pay_amount,
            "pay_amount": pay_amount,
            "post_amount": 0,
            "doudian_open_id": buyer or "",
            "cancel_reason": "",
            "sku_order_list": [line],
        }
        key = (item_id, sku_id)
        with self.lock:
            if any(o["order_id"] == order_id for o in self.state.orders):
                raise ValueError(f"order {order_id} exists")
            if paid and take_stock:
                have = self.state.stock.get(key, 0)
                if have < quantity:
                    raise ValueError(f"sku {sku_id} has {have} on the platform, not {quantity}")
                self.state.stock[key] = have - quantity
                self._taken[order_id] = (key, quantity)
            self.state.orders.append(order)
        return copy.deepcopy(order)

    def cancel_order(self, order_id: str, *, at: datetime, reason: str = "买家取消") -> None:
        """Cancelled (or fully refunded) before shipping: status 4, units back on sale
        (assumption: the platform returns a cancelled order's units to the SKU's stock)."""
        with self.lock:
            order = self._order(order_id)
            self._set_status(order, 4, _seconds(at))
            order["cancel_reason"] = reason
            taken = self._taken.pop(order_id, None)
            if taken is not None:
                key, quantity = taken
                self.state.stock[key] = self.state.stock.get(key, 0) + quantity

    def ship_order(self, order_id: str, *, at: datetime) -> None:
        """Shipped: status 3 (已发货)."""
        with self.lock:
            order = self._order(order_id)
            self._set_status(order, 3, _seconds(at))
            self._taken.pop(order_id, None)

    def reset(self) -> None:
        """An empty store, no faults, a valid token: one server can serve many tests."""
        with self.lock:
            self.state = StoreState()
            self.faults = Faults()
            self._window.clear()
            self.token_expired = False
            self._idempotent_ids.clear()
            self._taken.clear()

    def expire_token(self) -> None:
        """The access token ages out: calls are refused with isv.access-token-expired."""
        self.token_expired = True

    def _order(self, order_id: str) -> dict[str, Any]:
        for order in self.state.orders:
            if order["order_id"] == order_id:
                return order
        raise KeyError(order_id)

    @staticmethod
    def _set_status(order: dict[str, Any], status: int, at: int) -> None:
        for row in (order, *order["sku_order_list"]):
            row["order_status"] = status
            row["order_status_desc"] = STATUS_DESC[status]
            row["update_time"] = at
        order["main_status"] = status
        order["main_status_desc"] = STATUS_DESC[status]

    # --- the common part of every call ---------------------------------------------------
    async def _handle(
        self, request: Request, method: str, action: Action, *, stock_change: bool = False
    ) -> Response:
        with self.lock:
            self.state.calls[method] += 1
        try:
            body = (await request.body()).decode("utf-8", errors="replace")
        except ClientDisconnect:  # the client gave up (a hang it timed out on)
            return Response(status_code=400)
        try:
            params = self._authenticate(request, method, body)
            data = action(params)
        except Refusal as refusal:
            return JSONResponse(refusal.body)
        if stock_change and self.fail_after_applying():
            return JSONResponse({"error": "injected failure after applying"}, status_code=500)
        return JSONResponse(envelope(10000, "success", data))

    def _authenticate(self, request: Request, method: str, body: str) -> dict[str, Any]:
        query = request.query_params
        app_key = query.get("app_key", "")
        if not app_key:
            raise _platform_check("isv.app-id-missing", "认证失败，app_key不存在", missing=True)
        if not (len(app_key) == 19 and app_key.isdigit()) or app_key != self.app_key:
            # an unknown well-formed key gets the same answer (assumption)
            raise _platform_check(
                "isv.app-id-invalid", "认证失败，app_key格式不正确，应为19位纯数字"
            )
        given = query.get("sign", "")
        if not given:
            raise _platform_check(
                "isv.signature-missing", "获取签名失败，请根据文档确保参数拼装正确", missing=True
            )
        timestamp = query.get("timestamp", "")
        if not _timestamp_ok(timestamp):
            raise _platform_check("isv.timestamp-format-error", "时间戳格式错误")
        raw = body or query.get("param_json") or "{}"
        try:
            params = json.loads(raw)
        except json.JSONDecodeError:
            params = None
        if not isinstance(params, dict):
            raise _platform_check("isv.parameter-format-invalid", "业务参数json解析失败")
        expected = self._signature(query.get("sign_method") or "md5", method, params, query)
        if expected is None or not hmac.compare_digest(expected.encode(), given.encode()):
            raise _platform_check("isv.signature-invalid", "签名校验失败")
        token = query.get("access_token", "")
        if not token:
            raise _platform_check(
                "isv.access-token-missing", "认证失败，access_token不能为空", missing=True
            )
        if token != self.access_token:
            raise _platform_check(
                "isv.access-token-no-existed", "access_token不存在，请使用最新的access_token访问"
            )
        if self.token_expired:
            raise _platform_check("isv.access-token-expired", "access_token已过期")
        return params

    def _signature(
        self, sign_method: str, method: str, params: dict[str, Any], query: Any
    ) -> str | None:
        """The documented signature over param_json with its keys sorted; the method is
        the one the path names. No sign_method means MD5 (the official Python SDK sends
        none and signs with MD5)."""
        canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        pattern = (
            f"{self.app_secret}app_key{query.get('app_key', '')}method{method}"
            f"param_json{canonical}timestamp{query.get('timestamp', '')}"
            f"v{query.get('v', '')}{self.app_secret}"
        ).encode()
        if sign_method == "md5":
            return hashlib.md5(pattern).hexdigest()
        if sign_method == "hmac-sha256":
            return hmac.new(self.app_secret.encode(), pattern, hashlib.sha256).hexdigest()
        return None

    # --- the APIs ------------------------------------------------------------------------
    async def _search_list(self, request: Request) -> Response:
        return await self._handle(request, "order.searchList", self._search)

    async def _sync_stock(self, request: Request) -> Response:
        return await self._handle(request, "sku.syncStock", self._sync, stock_change=True)

    async def _stock_num(self, request: Request) -> Response:
        return await self._handle(request, "sku.stockNum", self._read)

    async def _unknown(self, request: Request) -> Response:
        body = envelope(70000, "接口服务已下线", None, sub_code="isp.api-service-off")
        body["sub_msg"] = "API不存在或API已下线"
        return JSONResponse(body)

    def _search(self, params: dict[str, Any]) -> dict[str, Any]:
        """order.searchList: orders created / updated in a window, one page."""
        page = _number(params, "page")
        size = _number(params, "size")
        assert page is not None and size is not None
        if size > MAX_PAGE_SIZE or size <= 0:
            raise _invalid("isv.parameter-invalid:20008", "单次查询订单数超过限制")
        if page < 0:
            raise _invalid("isv.parameter-invalid:10035", "查询订单列表页数不能小于0")
        bounds = {
            name: _number(params, name, required=False)
            for name in (
                "create_time_start",
                "create_time_end",
                "update_time_start",
                "update_time_end",
            )
        }
        if bounds["create_time_start"] is None and bounds["update_time_start"] is None:
            raise _invalid("isv.parameter-invalid:20011", "订单查询开始时间不能为空")
        order_by = params.get("order_by") or "create_time"
        if order_by not in ("create_time", "update_time"):
            raise _invalid("isv.parameter-invalid", "order_by")
        with self.lock:
            rows = [copy.deepcopy(o) for o in self.state.orders if _within(o, bounds)]
            duplicate = self.faults.duplicate_orders
        rows.sort(key=lambda o: (o[order_by], o["order_id"]), reverse=not params.get("order_asc"))
        if duplicate:  # every order delivered twice, on two pages
            rows = rows + copy.deepcopy(rows)
        return {
            "page": page,
            "size": size,
            "total": len(rows),
            "shop_order_list": rows[page * size : (page + 1) * size],
        }

    def _sync(self, params: dict[str, Any]) -> dict[str, Any]:
        """sku.syncStock: incremental=false sets, incremental=true adds (idempotent_id
        required, a repeated one refused, the result never below zero)."""
        key = self._sku_key(params, "isv.parameter-invalid:5")
        stock_num = _number(params, "stock_num")
        assert stock_num is not None
        incremental = params.get("incremental") in (True, "true")
        idempotent_id = str(params.get("idempotent_id") or "")
        with self.lock:
            current = self.state.stock.get(key, 0)
            if incremental:
                if not idempotent_id:
                    raise Refusal(
                        40002, "缺少必选参数", "isv.missing-parameter:idempotent_id", "幂等ID必传"
                    )
                if idempotent_id in self._idempotent_ids:
                    raise _invalid("isv.parameter-invalid:40010", "[idempotent_id]重复，操作已执行")
                figure = current + stock_num
                if figure < 0:  # message documented; code and sub_code are an assumption
                    raise Refusal(
                        50002,
                        "业务处理失败",
                        "isv.business-failed",
                        "系统错误:更新库存数失败: 库存不足",
                    )
                self._idempotent_ids.add(idempotent_id)
            else:
                if stock_num < 0:  # assumption: the doc only says 0 is allowed
                    raise _invalid("isv.parameter-invalid", "库存值不能小于0")
                figure = stock_num
            self.state.stock[key] = figure
            self.state.stock_changes += 1
        return {}

    def _read(self, params: dict[str, Any]) -> dict[str, Any]:
        """sku.stockNum: the SKU's stock (普通库存, sku_type 0)."""
        key = self._sku_key(params, "isv.parameter-invalid:20050")
        with self.lock:
            stock = self.state.stock.get(key, 0)
        return {
            "sku_id": int(key[1]),
            "out_sku_id": 0,
            "code": "",
            "sku_type": 0,
            "stock_num": stock,
            "prehold_stock_num": 0,
            "prom_stock_num": 0,
            "step_stock_num": 0,
            "prehold_step_stock_num": 0,
            "prom_step_stock_num": 0,
            "normal_stock_num": stock,
            "channel_stock_num": 0,
        }

    def _sku_key(self, params: dict[str, Any], not_found: str) -> tuple[str, str]:
        sku_id = _number(params, "sku_id", required=False)
        product_id = _number(params, "product_id", required=False)
        with self.lock:
            for item, sku in self.state.stock:
                if str(sku_id) == sku and (product_id is None or str(product_id) == item):
                    return (item, sku)
        raise _invalid(not_found, f"sku_id: {sku_id}, 找不到对应的sku")


def _within(order: dict[str, Any], bounds: dict[str, int | None]) -> bool:
    """Both ends inclusive (assumption: the docs do not say)."""
    for field in ("create_time", "update_time"):
        start, end = bounds[f"{field}_start"], bounds[f"{field}_end"]
        if start is not None and order[field] < start:
            return False
        if end is not None and order[field] > end:
            return False
    return True
