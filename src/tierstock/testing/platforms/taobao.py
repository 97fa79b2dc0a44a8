"""Loopback double of the Taobao open platform (TOP), built from its documentation
(docs/platforms/taobao.md lists each behaviour and its page).

One entry, ``/router/rest`` (POST form or GET query), dispatching on ``method``:
``taobao.trades.sold.increment.get``, ``taobao.item.quantity.update`` and
``taobao.item.sku.get``. Every call is checked as TOP does — app key, timestamp (GMT+8,
ten minutes either way), version, signature (MD5, HMAC-MD5 or HMAC-SHA256, uppercase
hex), session — and refused with TOP's ``error_response`` (``code``, ``msg``,
``sub_code``, ``sub_msg``). Answers are JSON only (``format=json``).

The store side: :meth:`TaobaoDouble.add_order` places a paid trade for one platform SKU
(money in yuan, ``"19.90"``, with the sub-order's ``estimate_con_time``), taking the
units from the SKU's quantity; :meth:`cancel_order` and :meth:`ship_order` change it
later, so a test can script a burst.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tierstock.testing.platforms.base import Faults, PlatformDouble, StoreState

DEFAULT_APP_KEY = "12345678"
DEFAULT_APP_SECRET = "taobao-double-app-secret"
DEFAULT_SESSION = "taobao-double-session-key"

CHINA = timezone(timedelta(hours=8), "GMT+8")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_SKEW = timedelta(minutes=10)  # 淘宝API服务端允许客户端请求最大时间误差为10分钟
MAX_SPAN = timedelta(days=1)
CALL_LIMIT_SECONDS = 1


class Refusal(Exception):
    """A call TOP answers with an error_response."""

    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(msg)
        error: dict[str, Any] = {"code": code, "msg": msg}
        if sub_code:
            error["sub_code"] = sub_code
        if sub_msg:
            error["sub_msg"] = sub_msg
        error["request_id"] = secrets.token_hex(6)
        self.body = {"error_response": error}


def _missing(name: str) -> Refusal:
    return Refusal(40, f"Missing required arguments:{name}")


def _invalid(name: str) -> Refusal:
    return Refusal(41, f"Invalid arguments:{name}")


def _business(sub_code: str, sub_msg: str) -> Refusal:
    return Refusal(15, "Remote service error", sub_code, sub_msg)


def _format(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("use aware datetimes")
    return at.astimezone(CHINA).strftime(TIME_FORMAT)


def _parse(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=CHINA)
    except ValueError:
        return None


def _integer(params: dict[str, str], name: str, default: int | None = None) -> int:
    value = params.get(name, "")
    if value == "":
        if default is None:
            raise _missing(name)
        return default
    if not value.lstrip("-").isdigit():
        raise _invalid(name)
    return int(value)


def _selected(row: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    """The trade with only the requested fields; ``orders.x`` picks sub-order fields and
    ``buyer_nick`` brings ``buyer_open_uid`` along, as the Trade docs say."""
    out = {k: v for k, v in row.items() if k in fields and k != "orders"}
    if "buyer_nick" in fields and "buyer_open_uid" in row:
        out["buyer_open_uid"] = row["buyer_open_uid"]
    wanted = {f.removeprefix("orders.") for f in fields if f.startswith("orders.")}
    if "orders" in fields or wanted:
        out["orders"] = {
            "order": [
                {k: v for k, v in o.items() if "orders" in fields or k in wanted}
                for o in row["orders"]["order"]
            ]
        }
    return out


class TaobaoDouble(PlatformDouble):
    """TOP for one seller: one app (key, secret) and the seller's session key."""

    name = "taobao"

    def __init__(
        self,
        *,
        app_key: str = DEFAULT_APP_KEY,
        app_secret: str = DEFAULT_APP_SECRET,
        session: str = DEFAULT_SESSION,
    ) -> None:
        super().__init__()
        self.app_key = app_key
        self.app_secret = app_secret
        self.session = session
        self._taken: dict[str, tuple[tuple[str, str], int]] = {}
        self._apis = {
            "taobao.trades.sold.increment.get": self._increment,
            "taobao.item.quantity.update": self._quantity_update,
            "taobao.item.sku.get": self._sku_get,
        }

    def routes(self) -> list[Route]:
        return [Route("/router/rest", self.guarded(self._rest), methods=["GET", "POST"])]

    def rate_limited(self) -> Response:
        refusal = Refusal(
            7,
            "App Call Limited",
            "accesscontrol.limited-by-app-access-count",
            f"This ban will last for {CALL_LIMIT_SECONDS} more seconds",
        )
        return JSONResponse(refusal.body)

    # --- the store, for tests and the demo -----------------------------------------------
    def add_order(
        self,
        tid: str,
        num_iid: str,
        sku_id: str,
        num: int,
        payment: str,
        *,
        paid_at: datetime,
        estimate_con_time: datetime | None = None,
        buyer_open_uid: str | None = None,
        modified: datetime | None = None,
        status: str = "WAIT_SELLER_SEND_GOODS",
        take_stock: bool = True,
    ) -> dict[str, Any]:
        """A trade of ``num`` units of one SKU, ``payment`` yuan paid (``"19.90"``).

        ``WAIT_SELLER_SEND_GOODS`` (paid, to ship) by default; ``WAIT_BUYER_PAY`` places
        an unpaid one. A paid trade takes its units from the SKU's quantity (refused, as
        the platform refuses the buyer, when there are not enough) unless ``take_stock``
        is False.
        """
        paid = status != "WAIT_BUYER_PAY"
        yuan = f"{Decimal(payment):.2f}"
        line: dict[str, Any] = {
            "oid": int(f"{tid}1"),
            "num_iid": int(num_iid),
            "sku_id": sku_id,
            "num": num,
            "price": f"{Decimal(payment) / max(num, 1):.2f}",
            "total_fee": yuan,
            "payment": yuan,
            "status": status,
            "title": f"item {num_iid}",
        }
        if estimate_con_time is not None:
            line["estimate_con_time"] = _format(estimate_con_time)
        trade: dict[str, Any] = {
            "tid": int(tid),
            "tid_str": tid,
            "status": status,
            "type": "fixed",
            "created": _format(paid_at),
            "modified": _format(modified or paid_at),
            "payment": yuan,
            "total_fee": yuan,
            "buyer_nick": "t**",  # masked nick
            "orders": {"order": [line]},
        }
        if paid:
            trade["pay_time"] = _format(paid_at)
        if buyer_open_uid:
            trade["buyer_open_uid"] = buyer_open_uid
        key = (num_iid, sku_id)
        with self.lock:
            if any(t["tid_str"] == tid for t in self.state.orders):
                raise ValueError(f"trade {tid} exists")
            if paid and take_stock:
                have = self.state.stock.get(key, 0)
                if have < num:
                    raise ValueError(f"sku {sku_id} has {have} on the platform, not {num}")
                self.state.stock[key] = have - num
                self._taken[tid] = (key, num)
            self.state.orders.append(trade)
        return copy.deepcopy(trade)

    def cancel_order(self, tid: str, *, at: datetime) -> None:
        """Refunded in full before shipping: TRADE_CLOSED, units back on sale
        (assumption: the platform returns a closed trade's units to the SKU)."""
        with self.lock:
            trade = self._trade(tid)
            self._set_status(trade, "TRADE_CLOSED", at)
            trade["end_time"] = _format(at)
            for line in trade["orders"]["order"]:
                line["refund_status"] = "SUCCESS"
            taken = self._taken.pop(tid, None)
            if taken is not None:
                key, num = taken
                self.state.stock[key] = self.state.stock.get(key, 0) + num

    def ship_order(self, tid: str, *, at: datetime) -> None:
        """Shipped: WAIT_BUYER_CONFIRM_GOODS with its consign_time."""
        with self.lock:
            trade = self._trade(tid)
            self._set_status(trade, "WAIT_BUYER_CONFIRM_GOODS", at)
            trade["consign_time"] = _format(at)
            self._taken.pop(tid, None)

    def reset(self) -> None:
        """An empty store, no faults: one server can serve many tests."""
        with self.lock:
            self.state = StoreState()
            self.faults = Faults()
            self._window.clear()
            self._taken.clear()

    def _trade(self, tid: str) -> dict[str, Any]:
        for trade in self.state.orders:
            if trade["tid_str"] == tid:
                return trade
        raise KeyError(tid)

    @staticmethod
    def _set_status(trade: dict[str, Any], status: str, at: datetime) -> None:
        trade["status"] = status
        trade["modified"] = _format(at)
        for line in trade["orders"]["order"]:
            line["status"] = status

    # --- the gateway ---------------------------------------------------------------------
    async def _rest(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            try:
                form = await request.form()
            except ClientDisconnect:  # the client gave up (a hang it timed out on)
                return Response(status_code=400)
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        method = params.get("method", "")
        with self.lock:
            self.state.calls[method or "(none)"] += 1
        try:
            api = self._check(params)
            answer, stock_change = api(params)
        except Refusal as refusal:
            return JSONResponse(refusal.body)
        if stock_change and self.fail_after_applying():
            return JSONResponse({"error": "injected failure after applying"}, status_code=500)
        answer["request_id"] = secrets.token_hex(6)
        return JSONResponse(
            {method.removeprefix("taobao.").replace(".", "_") + "_response": answer}
        )

    def _check(self, params: dict[str, str]) -> Any:
        """TOP's platform checks, in the order of its error codes."""
        if not params.get("method"):
            raise Refusal(21, "Missing method")
        if not params.get("app_key"):
            raise Refusal(28, "Missing app key")
        if params["app_key"] != self.app_key:
            raise Refusal(29, "Invalid app Key")
        if not params.get("sign"):
            raise Refusal(24, "Missing signature")
        if not params.get("timestamp"):
            raise Refusal(30, "Missing timestamp")
        sent = _parse(params["timestamp"])
        if sent is None or abs(datetime.now(UTC) - sent) > MAX_SKEW:
            raise Refusal(31, "Invalid timestamp")
        if not params.get("v"):
            raise Refusal(32, "Missing version")
        if params["v"] != "2.0":
            raise Refusal(34, "Unsupported version")
        if params.get("format") != "json":
            raise Refusal(23, "Invalid format")  # xml, TOP's default, is not implemented
        expected = self._signature(params)
        if expected is None or not hmac.compare_digest(expected.encode(), params["sign"].encode()):
            raise Refusal(25, "Invalid signature")
        api = self._apis.get(params["method"])
        if api is None:
            raise Refusal(22, "Invalid method")
        if not params.get("session"):
            raise Refusal(26, "Missing session")
        if params["session"] != self.session:
            raise Refusal(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")
        return api

    def _signature(self, params: dict[str, str]) -> str | None:
        """Every parameter but sign and empty ones, sorted, name+value; MD5 wrapped in
        the secret or HMAC keyed with it; uppercase hex. No sign_method means MD5."""
        joined = "".join(
            f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k]
        ).encode()
        secret = self.app_secret.encode()
        sign_method = params.get("sign_method") or "md5"
        if sign_method == "md5":
            return hashlib.md5(secret + joined + secret).hexdigest().upper()
        if sign_method == "hmac":
            return hmac.new(secret, joined, hashlib.md5).hexdigest().upper()
        if sign_method == "hmac-sha256":
            return hmac.new(secret, joined, hashlib.sha256).hexdigest().upper()
        return None

    # --- the APIs ------------------------------------------------------------------------
    def _increment(self, params: dict[str, str]) -> tuple[dict[str, Any], bool]:
        """taobao.trades.sold.increment.get: trades modified in [start, end] (a day at
        most), newest first, one page."""
        for name in ("fields", "start_modified", "end_modified"):
            if not params.get(name):
                raise _missing(name)
        start, end = _parse(params["start_modified"]), _parse(params["end_modified"])
        if start is None:
            raise _invalid("start_modified")
        if end is None:
            raise _invalid("end_modified")
        if end <= start:  # rule documented; the code is an assumption
            raise _business("isv.invalid-parameter", "end_modified必须大于start_modified")
        if end - start > MAX_SPAN:
            raise _business("isv.invalid-parameter", "修改时间跨度不能大于一天")
        page_no = _integer(params, "page_no", 1)
        page_size = _integer(params, "page_size", 40)
        if page_no < 1:
            raise _invalid("page_no")
        if not 1 <= page_size <= 100:
            raise _invalid("page_size")
        fields = {f.strip() for f in params["fields"].split(",") if f.strip()}
        with self.lock:
            rows = [
                copy.deepcopy(t)
                for t in self.state.orders
                if start <= (_parse(t["modified"]) or start) <= end
            ]
            duplicate = self.faults.duplicate_orders
        rows.sort(key=lambda t: (_parse(t["modified"]), t["tid"]), reverse=True)
        if duplicate:  # every trade delivered twice, on two pages
            rows = rows + copy.deepcopy(rows)
        page = rows[(page_no - 1) * page_size : page_no * page_size]
        answer: dict[str, Any] = {}
        if params.get("use_has_next") == "true":
            answer["has_next"] = page_no * page_size < len(rows)
        else:
            answer["total_results"] = len(rows)
        if page:
            answer["trades"] = {"trade": [_selected(t, fields) for t in page]}
        return answer, False

    def _quantity_update(self, params: dict[str, str]) -> tuple[dict[str, Any], bool]:
        """taobao.item.quantity.update: type 1 sets, type 2 adds; never below zero."""
        num_iid = str(_integer(params, "num_iid"))
        quantity = _integer(params, "quantity")
        kind = _integer(params, "type", 1)
        if kind not in (1, 2):
            raise _invalid("type")
        sku_id = params.get("sku_id", "")
        if sku_id and not sku_id.isdigit():
            raise _invalid("sku_id")
        key = self._key(num_iid, sku_id)
        now = _format(datetime.now(UTC))
        with self.lock:
            current = self.state.stock.get(key, 0)
            figure = quantity if kind == 1 else current + quantity
            if figure < 0:  # sub_code seen on Tmall as …:quantity-tmall
                raise _business("isv.invalid-parameter:quantity", "库存数量不能为负数")
            self.state.stock[key] = figure
            self.state.stock_changes += 1
            num = sum(q for (item, _), q in self.state.stock.items() if item == num_iid)
        item: dict[str, Any] = {"num_iid": int(num_iid), "num": num, "modified": now}
        if key[1]:
            item["skus"] = {"sku": [{"sku_id": int(key[1]), "quantity": figure, "modified": now}]}
        return {"item": item}, True

    def _sku_get(self, params: dict[str, str]) -> tuple[dict[str, Any], bool]:
        """taobao.item.sku.get: one SKU, with the requested fields."""
        if not params.get("fields"):
            raise _missing("fields")
        sku_id = str(_integer(params, "sku_id"))
        num_iid = str(_integer(params, "num_iid"))  # nick instead of num_iid: not done
        key = self._key(num_iid, sku_id)
        with self.lock:
            quantity = self.state.stock.get(key, 0)
        sku = {
            "sku_id": int(sku_id),
            "num_iid": int(num_iid),
            "quantity": quantity,
            "status": "normal",
            "modified": _format(datetime.now(UTC)),
        }
        fields = {f.strip() for f in params["fields"].split(",")}
        return {"sku": {k: v for k, v in sku.items() if k in fields}}, False

    def _key(self, num_iid: str, sku_id: str) -> tuple[str, str]:
        """The item's SKU; without a sku_id, the item itself when it has no SKUs."""
        with self.lock:
            keys = [k for k in self.state.stock if k[0] == num_iid]
        if not keys:
            raise _business("isv.item-not-exist:invalid-numIid-or-iid", "商品不存在")
        if not sku_id:
            if any(sku for _, sku in keys):
                raise _business(
                    "isv.item-quantity-item-update-service-error",
                    "商品库存更新失败,可能含有销售属性",
                )
            return (num_iid, "")
        if (num_iid, sku_id) not in keys:  # sub_code: assumption
            raise _business("isv.invalid-parameter:sku_id", "sku不存在")
        return (num_iid, sku_id)
