from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
from tierstock.services import catalogue, placing, shops


def test_an_order_takes_spot_first(runtime):
    shop = shops.create_shop(shops.CreateShop("s"), runtime.uow()).shop
    p = catalogue.create_product(catalogue.CreateProduct(shop.id, "p"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop.id,
            p.id,
            "A",
            100,
            SalesFormSpec(SalesForm.TIERED, 48, 5),
            spot_stock=1,
            presale_stock=1,
        ),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop.id, p.id, True), runtime.uow())
    placed = placing.place_order(
        placing.PlaceOrder(shop.id, "k", (LineRequest(sku.id, 1),)), runtime.uow()
    )
    assert placed.order.lines[0].tier == "spot"
