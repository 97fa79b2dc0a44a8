"""Order and catalogue rules checked before any stock is touched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tierstock.domain.catalogue import Product, check_price, ensure_form_change_allowed
from tierstock.domain.errors import InvalidValueError, ListedProductFormChangeError
from tierstock.domain.orders import LineRequest, check_lines
from tierstock.policies import load_pack

LIMITS = load_pack("kuaishou").orders


def refusal(lines: list[LineRequest]) -> InvalidValueError:
    with pytest.raises(InvalidValueError) as info:
        check_lines(lines, LIMITS)
    return info.value


def test_an_order_without_lines_is_refused():
    error = refusal([])
    assert error.field == "lines"
    assert error.code == "invalid_value"


def test_an_order_may_have_as_many_lines_as_the_pack_allows():
    check_lines([LineRequest(i, 1) for i in range(LIMITS.max_lines_per_order)], LIMITS)


def test_an_order_with_one_line_too_many_is_refused_naming_the_limit():
    error = refusal([LineRequest(i, 1) for i in range(LIMITS.max_lines_per_order + 1)])
    assert error.field == "lines"
    assert str(LIMITS.max_lines_per_order) in error.message


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_line_of_no_units_is_refused_naming_the_line(quantity):
    error = refusal([LineRequest(1, quantity)])
    assert error.field == "lines[0].quantity"


def test_a_line_above_the_max_line_quantity_is_refused_naming_the_line():
    error = refusal([LineRequest(1, 1), LineRequest(2, LIMITS.max_line_quantity + 1)])
    assert error.field == "lines[1].quantity"
    assert str(LIMITS.max_line_quantity) in error.message


def test_a_line_of_exactly_the_max_line_quantity_is_accepted():
    check_lines([LineRequest(1, LIMITS.max_line_quantity), LineRequest(2, 1)], LIMITS)


def test_kuaishou_pack_caps_a_line_at_999_units_and_an_order_at_50_lines():
    assert (LIMITS.max_line_quantity, LIMITS.max_lines_per_order) == (999, 50)


@pytest.mark.parametrize("price_fen", [0, -1, -29_900])
def test_a_sku_price_of_zero_or_less_is_refused(price_fen):
    with pytest.raises(InvalidValueError) as info:
        check_price(price_fen)
    assert info.value.field == "price_fen"


@pytest.mark.parametrize("price_fen", [1, 29_900])
def test_a_positive_price_in_fen_is_accepted(price_fen):
    check_price(price_fen)


def product(*, listed: bool) -> Product:
    return Product(7, 1, "加厚羽绒服", listed, (), datetime(2025, 11, 1, tzinfo=UTC))


def test_a_listed_products_sales_form_cannot_change():
    with pytest.raises(ListedProductFormChangeError) as info:
        ensure_form_change_allowed(product(listed=True))
    error = info.value
    assert error.code == "listed_product_form_change"
    assert error.kind == "conflict"
    assert error.field == "sales_form"
    assert "delist" in error.message


def test_a_delisted_products_sales_form_may_change():
    ensure_form_change_allowed(product(listed=False))
