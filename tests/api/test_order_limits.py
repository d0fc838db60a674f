"""What a shop can't do to anyone else through the order numbers and amounts it chooses: a number
in Kabinet's own format does not stop the bot's next orders, an order that could never be stored is
refused up front (placed now or waiting for its customer), and an order its buyer deleted for good
is still the shop's financial record."""

from __future__ import annotations

import pytest

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
