"""What a shop can't do to anyone else through the order numbers and amounts it chooses: a number
in Kabinet's own format does not stop the bot's next orders, an order that could never be stored is
refused up front (placed now or waiting for its customer), and an order its buyer deleted for good
is still the shop's financial record."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bot.db import orders as orders_repo
from bot.db import shops as shops_repo
from bot.db.tables import customer_orders
from bot.fakebot import Player
from bot.services.orders import OrderNotFound
from tests.api.conftest import Shop, linked, order_body, store
from tests.conftest import App
from tests.services.test_checkout import BUYER, stock


@pytest.fixture
async def store_id(nova: Shop, alex: Player) -> int:
    """Nova's store, and Alex linked to Nova as customer c-1."""
    await alex.send("/start")
    made = await store(nova)
    await linked(nova, alex, "c-1")
    return made


async def item_products(app: App, number: str) -> list[tuple[str, int | None]]:
    order = await app.services.orders.by_number(number)
    async with app.services.db.read() as conn:
        return [(i.title, i.product_id) for i in await orders_repo.items(conn, order.id)]


async def placed_on_link(nova: Shop, alex: Player, customer: str, number: str) -> None:
    """The customer opens their link: the order that waited for them is placed, to pay."""
    _, link = await nova.post(f"/customers/{customer}/link", status=201)
    await alex.send("/start " + link["start_parameter"])
    _, data = await nova.get(f"/orders/{number}", status=200)
    assert data["status"] == "awaiting_payment"


async def test_a_shop_number_in_kabinets_format_does_not_stop_the_bots_next_orders(
        app: App, nova: Shop, alex: Player, store_id: int) -> None:
    today = app.clock.now().strftime("%y%m%d")
    # the numbers the bot would give its next two orders, taken by the shop: one placed, one waiting
    await nova.post("/customers/c-1/orders", order_body(store_id, number=f"{today}000002"), status=201)
    await nova.post("/customers/c-7/orders", order_body(store_id, number=f"{today}000003"), status=201)
    ready = await stock(app)
    items = await app.services.checkout.for_product(ready["cable"], {})
    numbers = [(await app.services.checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[])).number
               for _ in range(2)]
    assert len(set(numbers)) == 2 and not {f"{today}000002", f"{today}000003"} & set(numbers)
    assert all(n.startswith(today) and n.isdigit() for n in numbers)
    # and the waiting order still gets its own number when its customer comes
    await placed_on_link(nova, alex, "c-7", f"{today}000003")


async def test_an_order_too_large_to_store_is_refused_placed_now_or_waiting(
        app: App, nova: Shop, alex: Player, store_id: int) -> None:
    huge = order_body(store_id)
    huge["items"] = [{"title": "Lamp", "quantity": 10_000, "unit_price_minor": 10**15}]  # each field within range
    for customer in ("c-1", "c-9"):  # linked: placed at once; not linked: waits
        _, data = await nova.post(f"/customers/{customer}/orders", huge, status=422)
        assert data["error"]["message"].startswith("An order can't cost that much")
    # what waits is what can be placed: the link places it, nothing in the way
    await nova.post("/customers/c-9/orders", order_body(store_id, number="GOOD-1"), status=201)
    await placed_on_link(nova, alex, "c-9", "GOOD-1")


async def test_an_order_its_buyer_deleted_for_good_is_still_the_shops_record(
        app: App, nova: Shop, alex: Player, store_id: int) -> None:
    await nova.post("/customers/c-1/orders", order_body(store_id, number="NOVA-77"), status=201)
    order = await app.services.orders.by_number("NOVA-77")
    await app.services.orders.cancel(alex.user.id, order.id, "changed_mind")
    await app.services.orders.delete(alex.user.id, order.id)
    await app.services.orders.purge(alex.user.id, order.id)
    _, data = await nova.get("/orders/NOVA-77", status=200)
    assert (data["number"], data["status"], data["total_minor"]) == ("NOVA-77", "cancelled", order.total_minor)
    _, data = await nova.get("/customers/c-1/orders", status=200)
    assert [o["number"] for o in data["orders"]] == ["NOVA-77"]
    with pytest.raises(OrderNotFound):  # and for the buyer it is gone
        await app.services.orders.card(alex.user.id, order.id)


async def test_an_item_names_a_product_of_the_orders_store_or_none(
        app: App, nova: Shop, other: Shop, alex: Player, store_id: int) -> None:
    """A product id of another shop's store, or of none, is refused up front (placed now or waiting):
    before, it linked an order item to another shop's product, or broke the customer's link for good."""
    _, own = await nova.post(f"/stores/{store_id}/products", {"title": "Lamp", "price_minor": 2500,
                                                              "currency": "USD"}, status=200)
    elsewhere = await store(other, "Blue Shoes")
    _, theirs = await other.post(f"/stores/{elsewhere}/products", {"title": "Secret gadget", "price_minor": 100,
                                                                   "currency": "USD"}, status=200)
    for product_id in (theirs["id"], 999_999):
        body = order_body(store_id)
        body["items"][0]["product_id"] = product_id
        for customer in ("c-1", "c-9"):  # linked: placed at once; not linked: waits
            _, data = await nova.post(f"/customers/{customer}/orders", body, status=422)
            assert data["error"]["message"] == "An item's product_id is not a product of the order's store."
    body = order_body(store_id, number="OWN-1")
    body["items"][0]["product_id"] = own["id"]
    await nova.post("/customers/c-9/orders", body, status=201)
    await placed_on_link(nova, alex, "c-9", "OWN-1")
    assert await item_products(app, "OWN-1") == [("Wireless earbuds", own["id"]), ("USB-C cable", None)]


async def test_a_waiting_order_whose_product_is_unknown_when_placed_does_not_stop_the_link(
        app: App, nova: Shop, alex: Player, store_id: int) -> None:
    """A waiting order queued naming a product that is not the store's (as one could be before the
    check): opening the link still places it, the item kept with its title and price, unlinked."""
    await nova.post("/customers/c-9/orders", order_body(store_id, number="OLD-1"), status=201)
    async with app.services.db.write() as conn:
        customer = await shops_repo.customer(conn, nova.id, "c-9")
        assert customer is not None
        (row,) = await shops_repo.customer_orders(conn, customer.id, waiting_only=True, limit=10)
        request = json.loads(row.request)
        request["items"][0]["product_id"] = 999_999
        await conn.execute(customer_orders.update().where(customer_orders.c.id == row.id)
                           .values(request=json.dumps(request)))
    await placed_on_link(nova, alex, "c-9", "OLD-1")
    assert await item_products(app, "OLD-1") == [("Wireless earbuds", None), ("USB-C cable", None)]


async def test_a_currency_is_an_iso_4217_code_not_any_three_letters(
        app: App, nova: Shop, alex: Player, store_id: int) -> None:
    """Money in use somewhere: not any three letters, a metal, a unit of account, the code for no
    currency, or one withdrawn — for orders, products, coupons and gift certificates alike."""
    said = "A currency is a three-letter ISO 4217 code of money in use, such as USD."
    for customer, currency in (("c-1", "XYZ"), ("c-9", "XYZ"), ("c-1", "XAU"), ("c-1", "XXX"), ("c-1", "XDR"),
                               ("c-9", "DEM")):  # placed now or waiting
        _, data = await nova.post(f"/customers/{customer}/orders", order_body(store_id, currency=currency), status=422)
        assert data["error"]["message"] == said
    _, data = await nova.post(f"/stores/{store_id}/products", {"title": "Lamp", "price_minor": 100, "currency": "XYZ"},
                              status=422)
    assert data["error"]["message"] == said
    _, data = await nova.post("/customers/c-1/coupons", {"store_id": store_id, "currency": "XAU", "amount_minor": 300,
                                                         "valid_to": "2027-01-01T00:00:00Z"}, status=422)
    assert data["error"]["message"] == said
    _, data = await nova.post("/customers/c-1/certificates", {"currency": "XXX", "amount_minor": 300,
                                                              "valid_to": "2027-01-01T00:00:00Z"}, status=422)
    assert data["error"]["message"] == said
    for currency in ("eur", "XOF", "KWD"):  # any case; the West African CFA franc is money, X or not
        _, order = await nova.post("/customers/c-1/orders", order_body(store_id, currency=currency), status=201)
        assert order["currency"] == currency.upper()


async def test_an_order_needs_the_address_it_ships_to(app: App, nova: Shop, alex: Player, store_id: int) -> None:
    """Seller mode showed an empty "Ship to" for an order placed without one."""
    body = order_body(store_id)
    del body["address"]
    _, data = await nova.post("/customers/c-9/orders", body, status=422)
    assert [f["field"] for f in data["error"]["fields"]] == ["address"]
    body["address"] = {"recipient": "Alex Doe", "city": "Springfield", "country": "US"}
    _, data = await nova.post("/customers/c-9/orders", body, status=422)
    assert [f["field"] for f in data["error"]["fields"]] == ["address.street"]


async def test_a_waiting_order_todays_rules_refuse_is_cancelled_and_the_customer_still_linked(
        app: App, nova: Shop, alex: Player, store_id: int) -> None:
    """Queued before the currency check (any three letters were taken): opening the link cancels it
    instead of failing the link, and places the others."""
    await nova.post("/customers/c-9/orders", order_body(store_id, number="ODD-1"), status=201)
    await nova.post("/customers/c-9/orders", order_body(store_id, number="GOOD-2"), status=201)
    async with app.services.db.write() as conn:
        customer = await shops_repo.customer(conn, nova.id, "c-9")
        assert customer is not None
        for row in await shops_repo.customer_orders(conn, customer.id, waiting_only=True, limit=10):
            if row.number == "ODD-1":
                request = json.loads(row.request)
                request["currency"] = "XYZ"
                await conn.execute(customer_orders.update().where(customer_orders.c.id == row.id)
                                   .values(request=json.dumps(request)))
    await placed_on_link(nova, alex, "c-9", "GOOD-2")
    _, odd = await nova.get("/orders/ODD-1", status=200)
    assert odd["status"] == "cancelled" and datetime.fromisoformat(odd["cancelled_at"]) == app.clock.now()
    async with app.services.db.read() as conn:
        linked_now = await shops_repo.customer(conn, nova.id, "c-9")
    assert linked_now is not None and linked_now.user_id == alex.user.id


async def test_a_product_id_too_large_for_any_id_is_the_bodys_422(app: App, nova: Shop, store_id: int) -> None:
    body = order_body(store_id)
    body["items"][0]["product_id"] = 10**20
    _, data = await nova.post("/customers/c-9/orders", body, status=422)
    assert data["error"]["fields"][0]["field"] == "items.0.product_id"


async def test_an_absurd_usd_rate_or_an_order_of_nothing_is_refused(app: App, nova: Shop, alex: Player,
                                                                     store_id: int) -> None:
    """A rate far above any currency's (or not 1 for US dollars) would give points no purchase
    earned, and one too large broke completing the order; an order of 0 can never be paid by card.
    Both are refused, for a linked customer and for one the order would wait for."""
    for customer in ("c-1", "c-new"):  # c-1: linked to Alex already
        for currency, rate in (("EUR", "1e30"), ("USD", "100")):
            body = {**order_body(store_id), "currency": currency, "usd_rate": rate}
            _, data = await nova.post(f"/customers/{customer}/orders", body, status=422)
            assert "usd_rate" in data["error"]["message"], data
        free = order_body(store_id)
        free["shipping_minor"] = 0
        for item in free["items"]:
            item["unit_price_minor"] = 0
        _, data = await nova.post(f"/customers/{customer}/orders", free, status=422)
        assert data["error"]["message"] == "An order must cost something: its items and shipping add up to 0."
    _, kwd = await nova.post("/customers/c-1/orders", {**order_body(store_id), "currency": "KWD", "usd_rate": "3.26"},
                             status=201)
    assert kwd["currency"] == "KWD"
