"""`tierstock products`, `stock` and `orders`: thin commands over the catalogue, stock
and order services, each read back from a real SQLite database."""

from __future__ import annotations

from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import Tier
from tierstock.services import placing, stock
from tierstock.services.runtime import Runtime

from .conftest import Cli, Shop, one_error_line


def _buy(runtime: Runtime, shop: Shop, key: str, *quantities: int) -> int:
    lines = tuple(LineRequest(shop.sku_id, q) for q in quantities)
    return runtime.place_order(placing.PlaceOrder(shop.id, key, lines, "buyer-1")).order.id


def _available(runtime: Runtime, shop: Shop) -> dict[Tier, int]:
    tiers = stock.read_stock(shop.id, shop.sku_id, runtime.uow(readonly=True))
    return {tier: t.available for tier, t in tiers.items()}


def _row(output: str, first: str) -> list[str]:
    """The cells of the table row that starts with ``first``."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│") if c.strip()]
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{output}")


# --- products ---------------------------------------------------------------------------


def test_products_list_shows_the_shops_products_in_a_table(cli: Cli, shop: Shop) -> None:
    result = cli("products", "list", "--shop", str(shop.id))
    assert result.exit_code == 0, result.output
    assert f"Products of shop {shop.id}" in result.output
    assert "down jacket" in result.output
    assert "listed" in result.output and "seven_day_return" in result.output


def test_products_show_prints_the_card_with_tiers_and_the_next_promise(
    cli: Cli, shop: Shop
) -> None:
    result = cli("products", "show", str(shop.product_id), "--shop", str(shop.id))
    assert result.exit_code == 0, result.output
    assert "JACKET-BLACK-L" in result.output
    assert "spot 3/3" in result.output and "presale 5/5" in result.output
    assert "¥299.00" in result.output
    assert "ships within 48" in result.output  # the spot promise of the next unit


def test_products_show_of_another_shops_product_names_the_argument(cli: Cli, shop: Shop) -> None:
    result = cli("products", "show", "999999", "--shop", str(shop.id))
    assert result.exit_code == 1
    assert one_error_line(result) == "error: product_id: no product 999999 in this shop"


def test_an_unknown_shop_is_refused_naming_the_shop_option(cli: Cli) -> None:
    result = cli("products", "list", "--shop", "999999")
    assert result.exit_code == 1
    assert one_error_line(result) == "error: --shop: no shop 999999"


# --- stock ------------------------------------------------------------------------------


def test_stock_show_prints_each_tiers_figures(cli: Cli, shop: Shop, sqlite_runtime) -> None:
    _buy(sqlite_runtime, shop, "stock-show", 2)
    result = cli("stock", "show", "--shop", str(shop.id), "--sku", str(shop.sku_id))
    assert result.exit_code == 0, result.output
    assert _row(result.output, "spot") == ["spot", "3", "2", "1"]
    assert _row(result.output, "presale") == ["presale", "5", "0", "5"]


def test_stock_receive_and_set_change_the_tier_and_say_so(
    cli: Cli, shop: Shop, sqlite_runtime
) -> None:
    base = ["--shop", str(shop.id), "--sku", str(shop.sku_id)]
    evidence = ["--supplier", "义乌工厂", "--delivery-note", "DN-1"]  # docs/rules.md §3.5
    received = cli("stock", "receive", *base, "--tier", "spot", "--quantity", "4", *evidence)
    assert received.exit_code == 0, received.output
    assert f"SKU {shop.sku_id} spot: 7 units, 0 sold, 7 available" in received.output
    _buy(sqlite_runtime, shop, "stock-set", 2)
    set_ = cli("stock", "set", *base, "--tier", "presale", "--available", "1", "--reason", "灰尘")
    assert set_.exit_code == 0, set_.output
    assert "presale: 1 units, 0 sold, 1 available" in set_.output
    assert _available(sqlite_runtime, shop) == {Tier.SPOT: 5, Tier.PRESALE: 1}


def test_stock_of_an_unknown_sku_is_refused_naming_the_sku_option(cli: Cli, shop: Shop) -> None:
    result = cli("stock", "show", "--shop", str(shop.id), "--sku", "999999")
    assert result.exit_code == 1
    assert one_error_line(result) == "error: --sku: no SKU 999999 in this shop"


def test_a_missing_option_stays_a_usage_error_with_exit_code_2(cli: Cli, shop: Shop) -> None:
    result = cli("stock", "show", "--shop", str(shop.id))
    assert result.exit_code == 2
    assert "--sku" in result.output


# --- orders -----------------------------------------------------------------------------


def test_orders_show_prints_each_line_with_its_tier_and_deadline(
    cli: Cli, shop: Shop, sqlite_runtime
) -> None:
    order_id = _buy(sqlite_runtime, shop, "show", 3, 2)
    result = cli("orders", "show", str(order_id), "--shop", str(shop.id))
    assert result.exit_code == 0, result.output
    assert f"order {order_id} by buyer-1" in result.output
    assert "¥1,495.00" in result.output  # 5 units at ¥299
    assert "spot" in result.output and "presale" in result.output
    assert result.output.count("paid") >= 2


def test_orders_cancel_one_line_gives_its_units_back_to_their_tier(
    cli: Cli, shop: Shop, sqlite_runtime
) -> None:
    order_id = _buy(sqlite_runtime, shop, "cancel-line", 3, 2)
    assert _available(sqlite_runtime, shop) == {Tier.SPOT: 0, Tier.PRESALE: 3}
    args = [str(order_id), "--shop", str(shop.id)]
    result = cli("orders", "cancel", *args, "--line", "2", "--reason", "buyer asked")
    assert result.exit_code == 0, result.output
    assert f"order {order_id} line 2 cancelled" in result.output
    assert "cancelled" in result.output and "paid" in result.output
    assert _available(sqlite_runtime, shop) == {Tier.SPOT: 0, Tier.PRESALE: 5}
    again = cli("orders", "cancel", *args, "--line", "2")
    assert again.exit_code == 1
    assert one_error_line(again).startswith("error: --line: nothing left to cancel")


def test_orders_cancel_of_the_whole_order_then_an_unknown_one(
    cli: Cli, shop: Shop, sqlite_runtime
) -> None:
    order_id = _buy(sqlite_runtime, shop, "cancel-all", 1)
    result = cli("orders", "cancel", str(order_id), "--shop", str(shop.id))
    assert result.exit_code == 0, result.output
    assert _available(sqlite_runtime, shop) == {Tier.SPOT: 3, Tier.PRESALE: 5}
    missing = cli("orders", "cancel", "999999", "--shop", str(shop.id))
    assert missing.exit_code == 1
    assert one_error_line(missing) == "error: order_id: no order 999999 in this shop"
