"""Every endpoint × every role, and another shop's key: the refusals a user relies on.

A role lacking the permission gets 403 before any lookup (so it learns nothing about
whether the object exists); another shop's key gets 404 for this shop's objects,
including objects named inside a request body; a revoked key gets 401.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Api, ShopClient
from tierstock.domain.access import ROLE_PERMISSIONS, Permission, Role
from tierstock.testing.server import free_port


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the OpenAPI path template
    permission: Permission | None  # None: any valid key of the shop
    body: dict[str, Any] | None = None
    names_object: bool = True  # touches an object of the shop (another shop gets 404)
    roles: frozenset[Role] | None = None  # a narrower rule than the permission, if any


FORM = {"form": "spot", "spot_window_hours": 24}
OWNER = frozenset({Role.OWNER})
ENDPOINTS = [
    Endpoint("GET", "/shops/me", None, names_object=False),
    Endpoint("POST", "/products", Permission.CATALOGUE, {"name": "新品"}, False),
    Endpoint("GET", "/products", Permission.READ, names_object=False),
    Endpoint("POST", "/products/{product_id}/delist", Permission.CATALOGUE),
    Endpoint("POST", "/products/{product_id}/list", Permission.CATALOGUE),
    Endpoint(
        "POST",
        "/products/{product_id}/skus",
        Permission.CATALOGUE,
        {"code": "X", "price_fen": 100, "sales_form": FORM},
    ),
    Endpoint("GET", "/products/{product_id}/card", Permission.READ),
    Endpoint("PUT", "/skus/{sku_id}/sales-form", Permission.CATALOGUE, FORM),
    Endpoint("GET", "/skus/{sku_id}/stock", Permission.READ),
    Endpoint("POST", "/skus/{sku_id}/stock/receipts", Permission.STOCK, {"quantity": 1}),
    Endpoint("PUT", "/skus/{sku_id}/stock/{tier}", Permission.STOCK, {"available": 5}),
    Endpoint("GET", "/skus/{sku_id}/ledger", Permission.READ),
    # units made sellable without evidence: the owner's and the operator's report
    Endpoint(
        "GET",
        "/stock/unevidenced",
        Permission.READ,
        names_object=False,
        roles=frozenset({Role.OWNER, Role.OPERATOR}),
    ),
    Endpoint(
        "POST", "/orders", Permission.ORDERS, {"lines": [{"sku_id": "{sku_id}", "quantity": 1}]}
    ),
    Endpoint("GET", "/orders/{order_id}", Permission.READ),
    Endpoint("POST", "/orders/{order_id}/lines/{line_no}/cancel", Permission.ORDERS),
    Endpoint("POST", "/orders/{order_id}/cancel", Permission.ORDERS),
    Endpoint(
        "POST",
        "/orders/{order_id}/lines/{line_no}/shipment",
        Permission.SHIPPING,
        {"carrier": "顺丰", "tracking_no": "SF1"},
    ),
    Endpoint(
        "POST",
        "/orders/{order_id}/lines/{line_no}/unshippable",
        Permission.SHIPPING,
        {"reason": "工厂断货"},
    ),
    Endpoint(
        "POST",
        "/orders/{order_id}/lines/{line_no}/delays",
        Permission.DELAYS,
        {
            "kind": "negotiated",
            "reason": "买家同意",
            "buyer_consent": True,
            "new_ship_by": "2026-12-30T12:00:00+08:00",
        },
    ),
    Endpoint("GET", "/orders/{order_id}/lines/{line_no}/delays", Permission.READ),
    Endpoint(
        "POST",
        "/orders/{order_id}/lines/{line_no}/shipment/pickup",
        Permission.SHIPPING,
        {"picked_up_at": "2026-12-30T12:00:00+08:00"},
    ),
    # compensation claims are dealings with the buyer, like a delay's consent
    Endpoint(
        "POST", "/orders/{order_id}/lines/{line_no}/compensation/claim", Permission.DELAYS, {}
    ),
    Endpoint("POST", "/orders/{order_id}/lines/{line_no}/compensation/pay", Permission.DELAYS, {}),
    Endpoint(
        "POST",
        "/orders/{order_id}/lines/{line_no}/compensation/waive",
        Permission.DELAYS,
        {"note": "买家放弃"},
    ),
    Endpoint(
        "POST",
        "/orders/{order_id}/lines/{line_no}/compensation/agree",
        Permission.DELAYS,
        {"amount_fen": 0, "note": "买家同意"},
    ),
    Endpoint("GET", "/promises/compensations", Permission.READ, names_object=False),
    Endpoint("GET", "/promises", Permission.READ, names_object=False),
    Endpoint("POST", "/promises/scan", Permission.SHIPPING, names_object=False),
    Endpoint("GET", "/promises/risk", Permission.READ, names_object=False),
    Endpoint("GET", "/shops/{shop_id}/eligibility", Permission.READ),
    Endpoint(
        "POST",
        "/shops/{shop_id}/store-scores",
        Permission.CATALOGUE,
        {"data": [{"scored_on": "2026-11-20", "score": 4.8}]},
    ),
    Endpoint("POST", "/counts", Permission.STOCK, {}, False),
    Endpoint("GET", "/counts", Permission.READ, names_object=False),
    Endpoint("GET", "/counts/{count_id}", Permission.READ),
    Endpoint(
        "POST",
        "/counts/{count_id}/entries",
        Permission.STOCK,
        {"entries": [{"sku_code": "X", "counted": 1}]},
    ),
    Endpoint("GET", "/counts/{count_id}/variance", Permission.READ),
    Endpoint("GET", "/counts/{count_id}/variance.xlsx", Permission.READ),
    # approving a count needs the stock permission AND the owner or warehouse role
    Endpoint(
        "POST",
        "/counts/{count_id}/approve",
        Permission.STOCK,
        roles=frozenset({Role.OWNER, Role.WAREHOUSE}),
    ),
    Endpoint("GET", "/events", Permission.READ, names_object=False),
    Endpoint("POST", "/suppliers", Permission.CATALOGUE, {"name": "工厂"}, False),
    Endpoint("GET", "/suppliers", Permission.READ, names_object=False),
    Endpoint(
        "POST",
        "/skus/{sku_id}/capacity",
        Permission.CATALOGUE,
        {"supplier_id": "{supplier_id}", "batches": [{"quantity": 1, "ready_on": "2099-01-01"}]},
    ),
    Endpoint("GET", "/skus/{sku_id}/capacity", Permission.READ),
    Endpoint("GET", "/skus/{sku_id}/capacity/risk", Permission.READ),
    Endpoint("GET", "/supplier/batches", Permission.CAPACITY, names_object=False),
    Endpoint("POST", "/capacity/{batch_id}/confirm", Permission.CAPACITY),
    Endpoint(
        "POST",
        "/capacity/{batch_id}/revise",
        Permission.CAPACITY,
        {"quantity": 2, "ready_on": "2099-01-02"},
    ),
    Endpoint("POST", "/capacity/{batch_id}/decline", Permission.CAPACITY),
    Endpoint("POST", "/capacity/{batch_id}/receive", Permission.STOCK),
    Endpoint(
        "POST",
        "/plans",
        Permission.READ,
        {"sales_form": FORM, "price_fen": 100, "spot_quantity": 1, "buyers": 1},
        False,
    ),
    Endpoint("GET", "/keys", Permission.KEYS, names_object=False),
    Endpoint("POST", "/keys", Permission.KEYS, {"role": "viewer"}, False),
    Endpoint("DELETE", "/keys/{key_id}", Permission.KEYS),
    Endpoint("GET", "/audit", Permission.READ, names_object=False),
    Endpoint("GET", "/audit/export.csv", Permission.READ, names_object=False),
    # channels: the owner alone adds a store (its secrets) and repairs drift (writes to
    # every store); the owner and the operator run them (catalogue: live sessions)
    Endpoint(
        "POST", "/channels", None, {"platform": "own", "name": "自营商城"}, False, roles=OWNER
    ),
    Endpoint("GET", "/channels", Permission.CATALOGUE, names_object=False),
    Endpoint(
        "POST",
        "/channels/{channel_id}/links",
        Permission.CATALOGUE,
        {"sku_id": "{sku_id}", "platform_item_id": "1001", "platform_sku_id": "2001"},
    ),
    Endpoint(
        "PUT",
        "/skus/{sku_id}/channels/{channel_id}/rule",
        Permission.CATALOGUE,
        {"kind": "share", "value": 50},
    ),
    Endpoint("PUT", "/skus/{sku_id}/safety-stock", Permission.CATALOGUE, {"units": 1}),
    Endpoint(
        "POST",
        "/live-lock",
        Permission.CATALOGUE,
        {"channel_id": "{channel_id}", "sku_ids": ["{sku_id}"]},
    ),
    Endpoint("DELETE", "/live-lock", Permission.CATALOGUE, names_object=False),
    Endpoint("GET", "/channels/incidents", Permission.CATALOGUE, names_object=False),
    Endpoint("POST", "/channels/reconcile", None, names_object=False, roles=OWNER),
]
SHOP_SCOPED = (
    "/shops/",
    "/products",
    "/skus",
    "/stock/",
    "/orders",
    "/promises",
    "/counts",
    "/events",
    "/suppliers",
    "/supplier/",
    "/capacity/",
    "/plans",
    "/keys",
    "/audit",
    "/channels",
    "/live-lock",
)


def _call(client: httpx.Client, ep: Endpoint, key: str, ids: dict[str, Any]) -> httpx.Response:
    body = ep.body
    if body and "lines" in body:
        body = {"lines": [{"sku_id": ids["sku_id"], "quantity": 1}]}
    if body and body.get("supplier_id") == "{supplier_id}":
        body = {**body, "supplier_id": ids["supplier_id"]}
    if body and body.get("channel_id") == "{channel_id}":
        body = {**body, "channel_id": ids["channel_id"], "sku_ids": [ids["sku_id"]]}
    if body and body.get("sku_id") == "{sku_id}":
        body = {**body, "sku_id": ids["sku_id"]}
    headers = {"X-API-Key": key, "Idempotency-Key": uuid.uuid4().hex}
    return client.request(ep.method, ep.path.format(**ids), json=body, headers=headers)


@pytest.fixture()
def world(api: Api, shop: ShopClient) -> dict[str, Any]:
    """A shop with a listed SKU, an order, a key per role, and a second shop."""
    sku = shop.listed_sku(spot=50, presale=50)
    order = shop.order([(sku["id"], 1)])
    assert order.status_code == 201, order.text
    keys = {}
    for role in Role:
        r = shop.post("/keys", json={"role": role.value, "label": f"{role.value} key"})
        assert r.status_code == 201, r.text
        keys[role] = r.json()["api_key"]
    spare = shop.post("/keys", json={"role": "viewer"}).json()["id"]
    count = shop.post("/counts", json={})
    assert count.status_code == 201, count.text
    supplier = shop.post("/suppliers", json={"name": "义乌工厂"})
    assert supplier.status_code == 201, supplier.text
    plan = shop.post(
        f"/skus/{sku['id']}/capacity",
        json={
            "supplier_id": supplier.json()["id"],
            "batches": [{"quantity": 5, "ready_on": "2099-01-01"}],
        },
    )
    assert plan.status_code == 201, plan.text
    channel = shop.post(  # a store at a loopback port nothing listens on
        "/channels",
        json={
            "platform": "kuaishou",
            "name": "快手店",
            "server_url": f"http://127.0.0.1:{free_port()}",
            "credentials": {"app_key": "a", "sign_secret": "s", "access_token": "t"},
        },
    )
    assert channel.status_code == 201, channel.text
    return {
        "ids": {
            "shop_id": shop.id,
            "product_id": sku["product_id"],
            "sku_id": sku["id"],
            "tier": "spot",
            "count_id": count.json()["id"],
            "supplier_id": supplier.json()["id"],
            "batch_id": _first_batch(plan.json()),
            "order_id": order.json()["id"],
            "line_no": 1,
            "key_id": spare,
            "channel_id": channel.json()["id"],
        },
        "keys": keys,
        "other": api.new_shop("别人的店"),
    }


def _first_batch(plan: Any) -> int:
    batches = plan["batches"] if isinstance(plan, dict) else plan
    return int(batches[0]["id"])


def test_every_route_of_the_api_is_in_the_matrix(api: Api) -> None:
    """A new endpoint must declare here who may call it, or this test fails."""
    spec = api.anon.get("/openapi.json").json()
    routes = {
        (m.upper(), p) for p, ops in spec["paths"].items() for m in ops if p.startswith(SHOP_SCOPED)
    }
    covered = {(e.method, e.path) for e in ENDPOINTS}
    assert routes - covered == set(), "endpoints missing from the access matrix"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_exactly_what_its_permissions_say(
    role: Role, shop: ShopClient, world: dict[str, Any]
) -> None:
    key = world["keys"][role]
    granted = ROLE_PERMISSIONS[role]
    for ep in ENDPOINTS:
        r = _call(shop.http, ep, key, world["ids"])
        allowed = (ep.permission is None or ep.permission in granted) and (
            ep.roles is None or role in ep.roles
        )
        if allowed:
            assert r.status_code not in (401, 403), (role, ep, r.text)
            assert r.status_code < 500, (role, ep, r.text)
        else:
            assert r.status_code == 403, (role, ep, r.text)
            assert r.json()["error"] == "forbidden"


def test_a_forbidden_role_learns_nothing_about_whether_an_object_exists(
    shop: ShopClient, world: dict[str, Any]
) -> None:
    viewer = world["keys"][Role.VIEWER]
    real = shop.http.post(
        f"/products/{world['ids']['product_id']}/delist", headers={"X-API-Key": viewer}
    )
    missing = shop.http.post("/products/99999999/delist", headers={"X-API-Key": viewer})
    assert real.status_code == missing.status_code == 403
    assert real.json() == missing.json()


def test_another_shops_key_gets_404_for_every_object_of_this_shop(
    shop: ShopClient, world: dict[str, Any]
) -> None:
    other: ShopClient = world["other"]
    before = shop.stock(world["ids"]["sku_id"])
    for ep in ENDPOINTS:
        if not ep.names_object:
            continue
        r = _call(shop.http, ep, other.key, world["ids"])
        assert r.status_code == 404, (ep, r.text)
        assert set(r.json()) == {"error", "field", "message"}
    assert shop.stock(world["ids"]["sku_id"]) == before


def test_an_order_naming_another_shops_sku_in_its_body_is_refused_and_allocates_nothing(
    shop: ShopClient, world: dict[str, Any]
) -> None:
    other: ShopClient = world["other"]
    sku = world["ids"]["sku_id"]
    before = shop.stock(sku)
    r = other.order([(sku, 1)])
    assert r.status_code == 404
    assert r.json()["field"] == "lines[0].sku_id"
    assert shop.stock(sku) == before


def test_a_revoked_key_stops_working_at_once(shop: ShopClient, world: dict[str, Any]) -> None:
    created = shop.post("/keys", json={"role": "operator"}).json()
    ok = shop.http.get("/products", headers={"X-API-Key": created["api_key"]})
    assert ok.status_code == 200
    assert shop.request("DELETE", f"/keys/{created['id']}").status_code == 204
    gone = shop.http.get("/products", headers={"X-API-Key": created["api_key"]})
    assert gone.status_code == 401
    assert gone.json()["error"] == "unauthorized"


def test_keys_are_never_shown_again_after_creation(shop: ShopClient, world: dict[str, Any]) -> None:
    listed = shop.get("/keys").json()
    assert listed and all("api_key" not in k for k in listed)
    assert all(k not in shop.get("/keys").text for k in world["keys"].values())
