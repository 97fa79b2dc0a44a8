"""Domain errors: one base class, a stable ``code`` and the ``field`` concerned.

Each error says what *kind* of refusal it is (``invalid``, ``not_found``, ``conflict``)
so that entry points map it to an HTTP status or an exit code without knowing every
class. Messages are written for the merchant, not for the engineer.
"""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorKind = Literal["invalid", "not_found", "conflict", "unauthorized", "forbidden", "too_large"]

# The HTTP status each kind of refusal gets: the API and the workbench answer alike.
HTTP_STATUS_BY_KIND: dict[ErrorKind, int] = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "unauthorized": 401,
    "forbidden": 403,
    "too_large": 413,
}


class DomainError(Exception):
    """A rule refused the request; nothing was changed."""

    code: ClassVar[str] = "domain_error"
    kind: ClassVar[ErrorKind] = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidValueError(DomainError):
    """A value breaks a rule of the policy pack or of the catalogue."""

    code = "invalid_value"


class InvalidSalesFormError(InvalidValueError):
    code = "invalid_sales_form"


class NotFoundError(DomainError):
    code = "not_found"
    kind = "not_found"


class UnauthorizedError(DomainError):
    code = "unauthorized"
    kind = "unauthorized"


class ListedProductFormChangeError(DomainError):
    """docs/rules.md §2: a sales form may change only while the product is delisted."""

    code = "listed_product_form_change"
    kind = "conflict"


class ProductNotListedError(DomainError):
    code = "product_not_listed"
    kind = "conflict"


class InsufficientStockError(DomainError):
    """No tier the SKU may sell from holds the whole quantity of a line."""

    code = "insufficient_stock"
    kind = "conflict"


class PresaleEndedError(DomainError):
    """A fixed-date presale whose date has passed cannot take orders."""

    code = "presale_ended"
    kind = "conflict"


class IdempotencyKeyReusedError(DomainError):
    """The same Idempotency-Key was sent with a different request body."""

    code = "idempotency_key_reused"
    kind = "invalid"


class AlreadyCancelledError(DomainError):
    code = "already_cancelled"
    kind = "conflict"


class DuplicateError(DomainError):
    code = "duplicate"
    kind = "conflict"
