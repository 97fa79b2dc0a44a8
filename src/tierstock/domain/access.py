"""Roles and what each may do (issue: trust). Pure: the API checks, this decides.

A key belongs to exactly one shop and has one role. Permissions are coarse on purpose:
a merchant should be able to read this table and know what a key it hands out can do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tierstock.domain.errors import DomainError


class Role(StrEnum):
    OWNER = "owner"  # everything, including keys
    OPERATOR = "operator"  # catalogue, sales forms, listing, orders, live sessions, delays
    WAREHOUSE = "warehouse"  # receipts, stock, counts, shipments
    SUPPLIER = "supplier"  # its own capacity plans only
    VIEWER = "viewer"  # read-only


class Permission(StrEnum):
    READ = "read"
    CATALOGUE = "catalogue"  # products, SKUs, sales forms, list/delist
    STOCK = "stock"  # receive and set stock
    ORDERS = "orders"  # place and cancel orders
    SHIPPING = "shipping"  # record shipments
    DELAYS = "delays"  # move deadlines with the delay tools
    KEYS = "keys"  # create and revoke API keys
    CAPACITY = "capacity"  # a supplier's own plans


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.OPERATOR: frozenset(
        {
            Permission.READ,
            Permission.CATALOGUE,
            Permission.STOCK,
            Permission.ORDERS,
            Permission.DELAYS,
        }
    ),
    Role.WAREHOUSE: frozenset({Permission.READ, Permission.STOCK, Permission.SHIPPING}),
    Role.SUPPLIER: frozenset({Permission.CAPACITY}),
    Role.VIEWER: frozenset({Permission.READ}),
}


class ForbiddenError(DomainError):
    """The key is valid but its role may not do this. Checked before any object is
    looked up, so the answer never reveals whether an object exists."""

    code = "forbidden"
    kind = "forbidden"


def ensure_allowed(role: str, permission: Permission) -> None:
    try:
        granted = ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        granted = frozenset()
    if permission not in granted:
        raise ForbiddenError(
            f"a key with role {role!r} may not do this ({permission.value})", field="X-API-Key"
        )


@dataclass(frozen=True)
class ApiKeyOwner:
    shop_id: int
    role: str
    policy: str
    key_id: int
    supplier_id: int | None = None
