"""Updates delivered as long polling delivers them: one getUpdates batch handed to concurrent tasks
(`Player.together()`). An album is several messages at once, a double tap two presses at once, a
text typed right after a press arrives with it. One user's updates must run one after another."""

from __future__ import annotations

from dataclasses import replace

from bot.fakebot import Player
from bot.integrations.payments import SandboxGateway
from bot.keyboards.orders import OrderAction, OrderCb
from bot.middlewares.isolation import FreeingEventIsolation, SharedIsolation
from bot.services import disputes, reviews
from bot.services.orders import Status
from tests.conftest import App
from tests.flows.steps import fill_in_a_us_address, rate_a_completed_order
from tests.flows.test_addresses import MOSCOW, seed
from tests.flows.test_pay import add_card
from tests.orderkit import make_order, place


def test_the_dispatcher_keeps_our_isolation(app: App) -> None:
    """aiogram takes `events_isolation or DisabledEventIsolation()`: an isolation that is falsy
    (an empty one with a `__len__`) was silently replaced by one that isolates nothing."""
    isolation = app.dp.fsm.events_isolation
    if isinstance(isolation, SharedIsolation):  # REDIS_URL: ours in front of the Redis lock
        assert isinstance(isolation.local, FreeingEventIsolation) and bool(isolation)
    else:
        assert isinstance(isolation, FreeingEventIsolation)
    assert bool(FreeingEventIsolation())


async def test_an_album_of_dispute_photos_keeps_every_photo(app: App, alex: Player) -> None:
    order = await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.send("/start")
    await alex.press("📦 My orders")
    await alex.press("1")
    await alex.press("⚠️ Open a dispute")
    await alex.press("Not as described")
    await alex.send("The colour is green, not blue.")
    await alex.press("Full refund")
    album = ["album-1", "album-2", "album-3"]
    assert len(album) == disputes.MAX_PHOTOS
    async with alex.together():
        for name in album:
            await alex.send_photo(name)
    assert "step 5 of 5" in alex.last_text and "📎 3 photos" in alex.last_text
    await alex.press("📨 Submit the dispute")
    dispute = await app.services.disputes.for_order_number(order.number)
    assert dispute.photos == tuple(album)


async def test_an_album_of_review_photos_keeps_every_photo(app: App, alex: Player) -> None:
    await rate_a_completed_order(app, alex, "5")
    await alex.send("Good bass and a long battery")
    album = [f"album-{i}" for i in range(reviews.MAX_PHOTOS)]
    async with alex.together():
        for name in album:
            await alex.send_photo(name)
    assert f"Photos: {reviews.MAX_PHOTOS}" in alex.last_text  # the last one leads to the summary
    await alex.press("📣 Publish")
    (card,) = (await app.services.reviews.mine(alex.user.id)).rows
    assert card.review.photos == tuple(album)


async def test_save_pressed_three_times_stores_one_address(app: App, alex: Player) -> None:
    await seed(app, alex, *[replace(MOSCOW, street=f"ул. Тверская, д. {i}") for i in range(1, 3)])
    await alex.send("/start")
    await fill_in_a_us_address(alex)
    async with alex.together():
        for _ in range(3):
            await alex.press("✅ Save")
    book = await app.services.addresses.list(alex.user.id)
    assert len(book) == 3 and [a.street for a in book].count("1 Main St") == 1
    closed = "This form is already closed: the address was saved or the form was cancelled."
    assert alex.alerts()[-2:] == [closed, closed]


async def test_a_double_pay_charges_once(app: App, alex: Player) -> None:
    await alex.send("/start")
    await add_card(alex)
    placed = await place(app.services, alex.user.id)
    await alex.press_data(OrderCb(action=OrderAction.open, id=placed.id).pack())
    await alex.press("💳 Pay $37.99")
    await alex.press("⭐ Visa •••• 4242 · 12/29")
    async with alex.together():
        await alex.press("✅ Pay $37.99")
        await alex.press("✅ Pay $37.99")
    gateway = app.services.payments
    assert isinstance(gateway, SandboxGateway)
    assert len(gateway.charges) == 1 and gateway.refunds == []
    assert "This order is already paid." in alex.alerts()
    assert "📦 Awaiting shipment" in alex.last_text and "💳 Paid with Visa •••• 4242" in alex.last_text


async def test_a_text_right_after_a_press(app: App, alex: Player) -> None:
    """The press opens the step, the text typed right after it answers that step."""
    await alex.send("/start")
    await alex.press("📍 Shipping addresses")
    await alex.press("➕ Add an address")
    async with alex.together():
        await alex.press("🇺🇸 United States")
        await alex.send("John Smith")
    assert "step 3 of 8" in alex.last_text  # the phone question: the name was taken


async def test_two_users_in_one_batch_do_not_wait_for_each_other(app: App, alex: Player, masha: Player) -> None:
    await alex.send("/start")
    await masha.send("/start")
    async with alex.together():
        await alex.press("📍 Shipping addresses")
        await masha.press("📍 Адреса доставки")
    assert "You have no saved addresses yet" in alex.last_text
    assert "Сохранённых адресов пока нет" in masha.last_text


async def test_the_card_answers_typed_in_one_burst_and_a_double_cvc(app: App, alex: Player) -> None:
    """Number, expiry and name arrive together: each answers its own step, in order. The CVC sent
    twice at once adds one card (one $1 hold)."""
    await alex.send("/menu")
    await alex.press("💳 Bank cards")
    await alex.press("➕ Add a card")
    async with alex.together():
        for text in ("4242 4242 4242 4242", "12/29", "IVAN PETROV"):
            await alex.send(text)
    assert "step 4 of 4" in alex.last_text and "IVAN PETROV" in alex.last_text
    async with alex.together():
        await alex.send("123")
        await alex.send("123")
    gateway = app.services.payments
    assert isinstance(gateway, SandboxGateway)
    assert len(await app.services.cards.wallet(alex.user.id)) == 1 and len(gateway.holds) == 1
    assert "✅ Card added: Visa •••• 4242." in "\n".join(m.text or "" for m in alex.bot_messages)
