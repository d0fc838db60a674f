"""Checkout through the Dispatcher (issue 17): a product's link → Buy now with the default address,
the best coupon and the default card → a paid order in My orders; a cart's store checked out;
a new address added on the way and back; a new card through the pay section's flow; a decline
leaving the order unpaid with the reason; a price changed since it was seen; a coupon used
meanwhile; a double press paying once; Back, Cancel and forged buttons; English and Russian."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from bot.db import orders as orders_repo
from bot.db.tables import coupons as coupons_table
from bot.db.tables import orders as orders_table
from bot.demo.addresses import seed_addresses
from bot.demo.cards import seed_cards
from bot.fakebot import Player
from bot.integrations.payments import SandboxGateway
from bot.keyboards.catalog import CheckoutAction, CheckoutCb, ShopAction, ShopCb
from bot.services.coupons.terms import Scope, Terms, ValueKind
from bot.services.orders import Status
from tests.conftest import App
from tests.flows.test_pay import NO_FUNDS, add_card, fill_wallet


@pytest.fixture
async def shop(app: App) -> dict[str, int]:
    return await stock(app)


async def stock(app: App) -> dict[str, int]:
    """Nova Electronics with earbuds (two colours) and a cable, in dollars."""
    catalog = app.services.catalog
    nova = await app.services.orders.ensure_store("Nova Electronics")
    ids = {"nova": nova}
    ids["earbuds"] = await catalog.upsert(nova, "Wireless earbuds", price_minor=2999, currency="USD", category="audio",
                                          title_ru="Беспроводные наушники", options={"colour": ["black", "white"]})
    ids["cable"] = await catalog.upsert(nova, "USB-C cable", price_minor=999, currency="USD", category="cables",
                                        title_ru="Кабель USB-C")
    return ids


async def with_wallet_and_book(app: App, p: Player) -> None:
    await p.send("/start")
    await seed_cards(app.services.cards, p.user.id)  # a valid default Visa •••• 4242, an expired Mastercard
    await seed_addresses(app.services.addresses, p.user.id)


async def platform_coupon(app: App, user_id: int, amount: int = 500, minimum: int = 3000) -> None:
    now = app.clock.now()
    await app.services.coupons.grant([user_id], Terms(Scope.platform, ValueKind.amount, "USD", now - timedelta(days=1),
                                                    now + timedelta(days=10), amount_minor=amount,
                                                    min_order_minor=minimum))


async def latest_order(app: App, user_id: int) -> orders_repo.OrderRow:
    async with app.services.db.read() as conn:
        newest = (await conn.execute(select(orders_table.c.id).where(orders_table.c.user_id == user_id)
                                     .order_by(orders_table.c.id.desc()).limit(1))).scalar_one()
        order = await orders_repo.get(conn, newest, user_id)
    assert order is not None
    return order


def gateway(app: App) -> SandboxGateway:
    assert isinstance(app.services.payments, SandboxGateway)
    return app.services.payments


async def test_buy_now_with_the_defaults_to_a_paid_order(app: App, alex: Player, shop: dict[str, int]) -> None:
    await with_wallet_and_book(app, alex)
    await platform_coupon(app, alex.user.id)
    await alex.send(f"/start p{shop['earbuds']}")
    await alex.press("white")
    await alex.press("⚡ Buy now")
    assert alex.last_text.startswith("<b>🛒 Checkout · Nova Electronics</b> · step 1 of 4")
    await alex.press("2")
    assert "step 2 of 4" in alex.last_text and "<b>Where to ship it?</b>" in alex.last_text
    default = next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ "))
    await alex.press(default)
    assert "step 3 of 4" in alex.last_text and "Discount: −$5.00" in alex.last_text
    assert ("✓ $5.00 off · All stores · −$5.00", "co:c:1") in alex.buttons()
    await alex.press("Continue ›")
    assert "To pay: <b>$54.98</b>" in alex.last_text
    await alex.press("✓ ⭐ Visa •••• 4242")
    summary = alex.last_text
    assert "1. Wireless earbuds × 2 (Colour: white) — $59.98" in summary
    assert "Coupons: −$5.00" in summary and "<b>Total: $54.98</b>" in summary and "Pay with: Visa •••• 4242" in summary
    await alex.press("✅ Place order · $54.98")
    assert alex.last_text.startswith("🛒 Order #") and " is placed.\n✅ Paid " in alex.last_text
    assert "✅ Paid $54.98 with Visa •••• 4242." in alex.last_text
    order = await latest_order(app, alex.user.id)
    assert (order.status, order.items_minor, order.discount_minor, order.total_minor) == (
        Status.awaiting_shipment, 5998, 500, 5498)
    assert len(gateway(app).charges) == 1 and gateway(app).charges[0].amount_minor == 5498
    async with app.services.db.read() as conn:  # the coupon is used by this order
        used = (await conn.execute(select(coupons_table.c.status, coupons_table.c.order_ref)
                                   .where(coupons_table.c.user_id == alex.user.id))).all()
    assert [tuple(r) for r in used] == [("used", order.number)]
    await alex.press_data("co:p:0")  # a second press on the old summary: nothing more
    assert alex.alerts()[-1] == "This checkout is closed. Open the product or the cart to check out again."
    assert len(gateway(app).charges) == 1
    # cancelled before shipment, paid: the money back, and the coupon too
    await alex.press_data(f"o:o:{order.id}:a:0:")
    await alex.press("✖️ Cancel order")
    await alex.press("I changed my mind")
    assert "🎟 The coupons used on it come back to your wallet (while they are valid)." in alex.last_text
    await alex.press("✖️ Yes, cancel the order")
    async with app.services.db.read() as conn:
        assert (await conn.execute(select(coupons_table.c.status).where(
            coupons_table.c.user_id == alex.user.id))).scalar_one() == "active"


async def test_the_cart_of_a_store_in_russian(app: App, masha: Player, shop: dict[str, int]) -> None:
    await with_wallet_and_book(app, masha)
    await app.services.kept.add_to_cart(masha.user.id, shop["cable"], quantity=3)
    await app.services.kept.add_to_cart(masha.user.id, shop["earbuds"], {"colour": "black"})
    await masha.send("/menu")
    await masha.press("🛍 Покупки")
    await masha.press("🛒 Корзина · 4")
    await masha.press("✅ Оформить · Nova Electronics")
    assert "шаг 1 из 3" in masha.last_text  # no quantity step for the cart
    await masha.press(next(t for t, _ in masha.buttons() if t.startswith("✓ ⭐ ")))
    await masha.press("Продолжить ›")
    await masha.press("✓ ⭐ Visa •••• 4242")
    assert "<b>Итого: 59,96\xa0$</b>" in masha.last_text
    await masha.press("✅ Оформить заказ · 59,96\xa0$")
    assert masha.last_text.startswith("🛒 Заказ № ")
    # the order keeps the items as she saw them: titles and options in Russian
    assert "1. Кабель USB-C\n" in masha.last_text and "2. Беспроводные наушники\n    Цвет: чёрный · " in masha.last_text
    assert (await app.services.kept.cart(masha.user.id)).pieces == 0  # the ordered lines left the cart


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_stores_cart_in_two_currencies_is_checked_out_one_currency_at_a_time(
        app: App, user: Player, shop: dict[str, int], lang: str) -> None:
    """An order is in one currency: a store's cart in dollars and roubles offers a check-out for each,
    and an old button for the whole store says why, instead of "something went wrong"."""
    kettle = await app.services.catalog.upsert(shop["nova"], "Kettle", price_minor=349000, currency="RUB",
                                               title_ru="Чайник")
    await with_wallet_and_book(app, user)
    await app.services.kept.add_to_cart(user.user.id, shop["cable"])
    await app.services.kept.add_to_cart(user.user.id, kettle)
    check_out, rub, step = {"en": ("✅ Check out · Nova Electronics", "RUB\xa03,490.00", "step 1 of 3"),
                            "ru": ("✅ Оформить · Nova Electronics", "3\xa0490,00\xa0₽", "шаг 1 из 3")}[lang]
    await user.send("/menu")
    await user.press({"en": "🛍 Shopping", "ru": "🛍 Покупки"}[lang])
    await user.press({"en": "🛒 Cart · 2", "ru": "🛒 Корзина · 2"}[lang])
    labels = [label for label, _ in user.buttons() if label.startswith(check_out)]
    assert len(labels) == 2 and any(label.endswith(rub) for label in labels)
    cart, _ = user.find_button(labels[0])
    await user.press_data(ShopCb(action=ShopAction.checkout, id=shop["nova"]).pack(), cart)  # a button of before
    assert user.alerts()[-1] == {"en": "These products are priced in different currencies: check them out one "
                                       "by one.",
                                 "ru": "Цены этих товаров в разных валютах: оформите их по отдельности."}[lang]
    await user.press(next(label for label in labels if label.endswith(rub)))
    assert step in user.last_text
    await user.press(next(t for t, _ in user.buttons() if t.startswith("✓ ⭐ ")))
    await user.press({"en": "Continue ›", "ru": "Продолжить ›"}[lang])
    await user.press("✓ ⭐ Visa •••• 4242")
    summary = user.last_text
    assert {"en": "Kettle", "ru": "Чайник"}[lang] in summary and rub in summary
    assert {"en": "USB-C cable", "ru": "Кабель USB-C"}[lang] not in summary


async def test_a_new_address_on_the_way_and_back(app: App, alex: Player, shop: dict[str, int]) -> None:
    await alex.send("/start")
    await seed_cards(app.services.cards, alex.user.id)
    await alex.send(f"/start p{shop['cable']}")
    await alex.press("⚡ Buy now")
    await alex.press("1")
    assert "Your address book is empty" in alex.last_text
    checkout, _ = alex.find_button("➕ New address")
    await alex.press("➕ New address")
    await alex.press_data(CheckoutCb(action=CheckoutAction.quantity, value=2).pack(), checkout)  # the paused one
    assert alex.alerts()[-1].startswith("This checkout waits for the address or card you are adding")
    await alex.press("🇺🇸 United States")
    for text in ("John Smith", "+1 617 555 0123", "Massachusetts", "Boston", "1 Main St"):
        await alex.send(text)
    await alex.press("⏭ Skip")
    await alex.send("02110")
    await alex.press("✅ Save")
    assert "step 3 of 4" in alex.last_text and "<b>Coupons</b>" in alex.last_text  # back, with it chosen
    await alex.press("Continue ›")
    await alex.press("✓ ⭐ Visa •••• 4242")
    shown = alex.last_text  # the whole address, as the label will have it: the recipient, the postcode…
    assert "Ship to: \nJohn Smith\n1 Main St\nBoston, MA 02110\nUnited States\n📞 " in shown
    await alex.press("✅ Place order · $9.99")
    order = await latest_order(app, alex.user.id)
    assert order.status == Status.awaiting_shipment and "Boston" in order.shipping_address


async def test_a_new_card_on_the_way_and_back_to_the_summary(app: App, alex: Player, shop: dict[str, int]) -> None:
    await alex.send("/start")
    await seed_addresses(app.services.addresses, alex.user.id)
    await alex.send(f"/start p{shop['cable']}")
    await alex.press("⚡ Buy now")
    await alex.press("1")
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ ")))
    await alex.press("Continue ›")
    assert "<b>How to pay?</b>" in alex.last_text  # an empty wallet: nothing chosen
    await alex.press_data("co:p:0")  # Place order before a card: still the card step
    await alex.press("➕ New card")
    for text in ("4242 4242 4242 4242", "12/29", "ALEX DOE", "123"):
        await alex.send(text)
    assert alex.last_text.startswith("<b>🛒 Checkout · Nova Electronics</b>\n")  # back, at the summary
    assert "Pay with: Visa •••• 4242" in alex.last_text
    assert [c.last4 for c in await app.services.cards.wallet(alex.user.id)] == ["4242"]  # saved
    await alex.press("✅ Place order · $9.99")
    assert "✅ Paid $9.99 with Visa •••• 4242." in alex.last_text
    assert (await latest_order(app, alex.user.id)).status == Status.awaiting_shipment


async def test_a_full_wallet_pays_with_a_new_card_just_this_once(app: App, alex: Player,
                                                                 shop: dict[str, int]) -> None:
    await alex.send("/start")
    await seed_addresses(app.services.addresses, alex.user.id)
    await fill_wallet(app, alex.user.id)
    await alex.send(f"/start p{shop['cable']}")
    await alex.press("⚡ Buy now")
    await alex.press("1")
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ ")))
    await alex.press("Continue ›")
    await alex.press("➕ New card")  # no room: just this once
    assert "Pay with: a new card" in alex.last_text
    await alex.press("✅ Place order · $9.99")
    assert [t for t, _ in alex.buttons()][:1] == ["Use it just this once"]
    await alex.press("Use it just this once")
    for text in ("4000 0566 5566 5556", "12/29", "ALEX DOE", "123"):
        await alex.send(text)
    assert "✅ Paid $9.99 with Visa •••• 5556." in alex.last_text
    assert len(await app.services.cards.wallet(alex.user.id)) == 5  # the wallet unchanged


async def test_a_decline_leaves_the_order_unpaid_with_the_reason(app: App, alex: Player, shop: dict[str, int]) -> None:
    await alex.send("/start")
    await seed_addresses(app.services.addresses, alex.user.id)
    await add_card(alex, NO_FUNDS)
    await alex.send(f"/start p{shop['cable']}")
    await alex.press("⚡ Buy now")
    await alex.press("1")
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ ")))
    await alex.press("Continue ›")
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ Visa")))
    await alex.press("✅ Place order · $9.99")
    assert alex.last_text.startswith("❌ The bank declined the card: there isn't enough money on it.")
    order = await latest_order(app, alex.user.id)
    assert order.status == Status.awaiting_payment and order.pay_attempts == 1


async def test_a_price_change_is_told_before_paying(app: App, alex: Player, shop: dict[str, int]) -> None:
    await with_wallet_and_book(app, alex)
    await alex.send(f"/start p{shop['cable']}")
    await alex.press("⚡ Buy now")
    await alex.press("1")
    await app.services.catalog.set_price(shop["cable"], 1299)
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ ")))
    await alex.press("Continue ›")
    await alex.press("✓ ⭐ Visa •••• 4242")
    assert "⚠️ The price of USB-C cable changed since you saw it: $9.99 → $12.99." in alex.last_text
    assert "<b>Total: $12.99</b>" in alex.last_text


async def test_back_cancel_typed_quantity_and_forged_buttons(app: App, alex: Player, shop: dict[str, int]) -> None:
    await with_wallet_and_book(app, alex)
    await alex.send(f"/start p{shop['cable']}")
    await alex.press("⚡ Buy now")
    await alex.send("many")
    assert alex.last_text.startswith("⚠️ Type a quantity from 1 to 99.")
    await alex.send("7")
    assert "step 2 of 4" in alex.last_text
    await alex.press("‹ Back")
    assert "✓ " not in "".join(t for t, _ in alex.buttons())  # 7 is not one of the buttons
    await alex.press("‹ Back")
    assert alex.last_text.startswith("<b>USB-C cable</b>")  # back to the product
    await alex.press("⚡ Buy now")
    await alex.press("1")
    await alex.press_data("co:a:999999")  # someone else's (or no) address
    assert alex.last_text.startswith("⚠️ This address is no longer available.")
    await alex.press("✖ Cancel")
    assert alex.alerts()[-1] == "Cancelled. Nothing was saved."
    await alex.press_data("co:p:0")
    assert alex.alerts()[-1] == "This checkout is closed. Open the product or the cart to check out again."
    assert gateway(app).charges == []


@pytest.mark.parametrize("lang", ["en"])
async def test_place_order_pressed_twice_in_one_batch(app: App, alex: Player, shop: dict[str, int], lang: str) -> None:
    await with_wallet_and_book(app, alex)
    zeta = await app.services.orders.ensure_store("Zeta Home")
    lamp = await app.services.catalog.upsert(zeta, "Desk lamp", price_minor=2499, currency="USD", category="home")
    await app.services.kept.add_to_cart(alex.user.id, shop["cable"], quantity=2)
    await app.services.kept.add_to_cart(alex.user.id, lamp)  # a cart across two stores
    await alex.send("/menu")
    await alex.press("🛍 Shopping")
    await alex.press("🛒 Cart · 3")
    assert [t for t, _ in alex.buttons() if t.startswith("✅")] == ["✅ Check out · Nova Electronics",
                                                                    "✅ Check out · Zeta Home"]
    await alex.press("✅ Check out · Nova Electronics")
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ ")))
    await alex.press("Continue ›")
    await alex.press("✓ ⭐ Visa •••• 4242")
    summary = alex.last
    async with alex.together():  # a double tap: both presses arrive in one batch
        await alex.press_data("co:p:0", summary)
        await alex.press_data("co:p:0", summary)
    assert len(gateway(app).charges) == 1 and gateway(app).charges[0].amount_minor == 1998
    async with app.services.db.read() as conn:
        orders = (await conn.execute(select(orders_table.c.id).where(orders_table.c.user_id == alex.user.id))).all()
    assert len(orders) == 1
    cart = await app.services.kept.cart(alex.user.id)
    assert [(s.store, s.lines[0].quantity) for s in cart.stores] == [("Zeta Home", 1)]  # the other store stays


@pytest.mark.parametrize("lang", ["en"])
async def test_a_checkout_left_on_the_way_is_forgotten_by_the_next(app: App, alex: Player, shop: dict[str, int],
                                                                   lang: str) -> None:
    from bot.handlers import returns
    from bot.handlers.checkout import NAME

    await alex.send("/start")
    await seed_addresses(app.services.addresses, alex.user.id)
    await alex.send(f"/start p{shop['cable']}")
    await alex.press("⚡ Buy now")
    await alex.press("1")
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ ")))
    await alex.press("Continue ›")
    await alex.press("➕ New card")
    for text in ("4000 0000 0000 0002", "12/29", "ALEX DOE", "123"):  # the bank declines the check
        await alex.send(text)
    assert "declined" in alex.last_text
    key = StorageKey(bot_id=app.bot.id, chat_id=alex.user.id, user_id=alex.user.id)
    slot = returns.stash(FSMContext(app.dp.storage, key), NAME)
    assert (await slot.get_data())["draft"]  # still kept: the card flow ended its own way
    await alex.send(f"/start p{shop['cable']}")
    await alex.press("⚡ Buy now")
    assert await slot.get_data() == {}
    assert alex.last_text.startswith("<b>🛒 Checkout · Nova Electronics</b> · step 1 of 4")


async def test_coupons_that_read_alike_say_which_is_which(app: App, alex: Player, shop: dict[str, int]) -> None:
    """Two coupons of the same value for the same stores: each button also names its coupon (its
    title, or the day it ends), so the buyer sees which one the order uses."""
    await with_wallet_and_book(app, alex)
    now = app.clock.now()
    for title, days in (("Black Friday", 10), (None, 20)):
        await app.services.coupons.grant([alex.user.id], Terms(
            Scope.platform, ValueKind.amount, "USD", now - timedelta(days=1), now + timedelta(days=days),
            amount_minor=500, min_order_minor=3000, title=title))
    await alex.send(f"/start p{shop['earbuds']}")
    await alex.press("⚡ Buy now")
    await alex.press("2")
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ ")))
    labels = [t for t, _ in alex.buttons() if "$5.00 off" in t]
    assert labels == ["✓ $5.00 off · All stores · Black Friday · −$5.00",
                      "$5.00 off · All stores · until Dec 15, 2026 · −$5.00"], labels
    await app.services.coupons.grant([alex.user.id], Terms(  # a second "Black Friday": then the day tells them apart
        Scope.platform, ValueKind.amount, "USD", now - timedelta(days=1), now + timedelta(days=12),
        amount_minor=500, min_order_minor=3000, title="Black Friday"))
    await alex.press("‹ Back")
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ ")))
    labels = [t.removeprefix("✓ ") for t, _ in alex.buttons() if "$5.00 off" in t]
    assert sorted(labels) == [f"$5.00 off · All stores · until Dec {day}, 2026 · −$5.00" for day in (15, 5, 7)], labels
