"""Paying an order through the Dispatcher: with a saved card and with a new card (kept or used
once), a decline, a double press (one charge), forged ids, restarts mid-flow; and the links between
sections: the card-delete warning, the address-delete warning, refunds to a deleted card."""

from __future__ import annotations

import pytest
from aiogram.methods import SendMessage

from bot.db import orders as orders_repo
from bot.demo.cards import seed_cards
from bot.fakebot import Player
from bot.integrations.payments import SandboxGateway
from bot.keyboards.addresses import AddressAction, AddressCb
from bot.keyboards.cards import CardAction, CardCb
from bot.keyboards.orders import OrderAction, OrderCb
from bot.keyboards.pay import PayAction, PayCb
from bot.runner import build_sweeper
from bot.services.addresses import AddressDraft
from bot.services.orders import Status
from tests.conftest import App
from tests.orderkit import EARBUDS, HOME, place
from tests.pushkit import sim_delivery

VISA = "4242 4242 4242 4242"
NO_FUNDS = "4000 0000 0000 0341"  # the sandbox verifies it, then declines charges for funds
CALIFORNIA = AddressDraft(
    country="US", recipient="John Smith", phone="+1 650 253 0000", region="CA", city="Mountain View",
    street="1600 Amphitheatre Pkwy", postal_code="94043",
)


def gateway(app: App) -> SandboxGateway:
    assert isinstance(app.services.payments, SandboxGateway)
    return app.services.payments


async def add_card(p: Player, number: str = VISA, holder: str = "IVAN PETROV") -> None:
    await p.send("/menu")
    await p.press("💳 Bank cards" if p.user.language_code == "en" else "💳 Банковские карты")
    await p.press("➕ Add a card" if p.user.language_code == "en" else "➕ Добавить карту")
    for text in (number, "12/29", holder, "123"):
        await p.send(text)


async def open_order(p: Player, order_id: int) -> None:
    await p.press_data(OrderCb(action=OrderAction.open, id=order_id).pack())


async def order(app: App, order_id: int, user_id: int):
    async with app.services.db.read() as conn:
        return await orders_repo.get(conn, order_id, user_id)


async def fill_wallet(app: App, user_id: int) -> None:
    """Five cards, the most a wallet holds, added through the card service."""
    cards = app.services.cards
    for number in ("4242424242424242", "5555555555554444", "2200000000000004", "6200000000000005",
                   "3566002020360505"):
        accepted = await cards.enter_number(user_id, None, number)
        await cards.enter_expiry(accepted.session_id, "12/29")
        await cards.enter_holder(accepted.session_id, "ALEX DOE")
        await cards.save(user_id, await cards.verify(user_id, accepted.session_id, "123"))


def labels(p: Player) -> list[str]:
    return [t for t, _ in p.buttons()]


async def test_pay_with_a_saved_card_and_a_double_press_charges_once(app: App, alex: Player) -> None:
    await alex.send("/start")
    await add_card(alex)
    await add_card(alex, "5555 5555 5555 4444", "ALEX DOE")
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    assert "💳 Pay $37.99" in labels(alex)
    await alex.press("💳 Pay $37.99")
    text = alex.last_text
    assert f"<b>💳 Payment for order #{placed.number}</b>" in text and "Amount: <b>$37.99</b>" in text
    cards = labels(alex)
    assert cards[:3] == ["⭐ Visa •••• 4242 · 12/29", "Mastercard •••• 4444 · 12/29", "➕ New card"]
    await alex.press("⭐ Visa •••• 4242 · 12/29")
    assert alex.last_text.startswith(f"Pay <b>$37.99</b> for order #{placed.number} with <b>Visa •••• 4242</b>?")
    confirm_message, confirm_data = alex.find_button("✅ Pay $37.99")
    await alex.press("✅ Pay $37.99")
    text = alex.last_text
    assert text.startswith("✅ Paid $37.99 with Visa •••• 4242. The order is waiting for the seller to ship it.")
    assert "📦 Awaiting shipment" in text and "💳 Paid with Visa •••• 4242" in text
    assert "💳 Pay $37.99" not in labels(alex)
    charges = gateway(app).charges
    assert [(c.amount_minor, c.currency) for c in charges] == [(3799, "USD")]
    row = await order(app, placed.id, alex.user.id)
    assert row.status == Status.awaiting_shipment and row.paid_charge_id == charges[0].id
    assert row.paid_card_brand == "visa" and row.paid_card_last4 == "4242"
    # the same button again (a double press): told it is paid, nothing charged twice
    await alex.press_data(confirm_data, confirm_message)
    assert "This order is already paid." in alex.alerts()
    assert len(gateway(app).charges) == 1
    # and Pay from an old order card
    await alex.press_data(PayCb(action=PayAction.choose, id=placed.id).pack())
    assert alex.alerts()[-1] == "This order is already paid."
    assert len(gateway(app).charges) == 1


async def test_russian_expired_cards_are_not_offered(app: App, masha: Player) -> None:
    await masha.send("/start")
    await seed_cards(app.services.cards, masha.user.id)  # a valid default Visa and an expired Mastercard
    placed = await place(app.services, masha.user.id)
    await open_order(masha, placed.id)
    await masha.press("💳 Оплатить 37,99\xa0$")
    text = masha.last_text
    assert f"<b>💳 Оплата заказа № {placed.number}</b>" in text and "1 карта с истёкшим сроком не предлагается." in text
    assert [t for t in labels(masha) if "••••" in t] == ["⭐ Visa •••• 4242 · 08/29"]
    await masha.press("⭐ Visa •••• 4242 · 08/29")
    await masha.press("✅ Оплатить 37,99\xa0$")
    assert masha.last_text.startswith("✅ Оплачено 37,99\xa0$ картой Visa •••• 4242.")
    assert "📦 Ожидает отправки" in masha.last_text
    assert len(gateway(app).charges) == 1


async def test_a_decline_leaves_the_order_unpaid_and_a_retry_is_a_new_charge(app: App, alex: Player) -> None:
    await alex.send("/start")
    await add_card(alex, NO_FUNDS)
    await add_card(alex, VISA, "ALEX DOE")
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("⭐ Visa •••• 0341 · 12/29")
    await alex.press("✅ Pay $37.99")
    text = alex.last_text
    assert text.startswith("❌ The bank declined the card: there isn't enough money on it.")
    assert f"Order #{placed.number} is not paid yet." in text
    row = await order(app, placed.id, alex.user.id)
    assert row.status == Status.awaiting_payment and row.pay_attempts == 1 and row.paid_card_id is None
    assert gateway(app).charges == []
    await alex.press("💳 Pay with another card")
    await alex.press("Visa •••• 4242 · 12/29")
    await alex.press("✅ Pay $37.99")
    assert alex.last_text.startswith("✅ Paid $37.99 with Visa •••• 4242.")
    assert len(gateway(app).charges) == 1


async def test_pay_with_a_new_card_saved_for_later(app: App, alex: Player) -> None:
    await alex.send("/start")
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    await alex.press("💳 Pay $37.99")
    assert "There are no valid cards in your wallet yet" in alex.last_text
    await alex.press("➕ New card")
    assert "Save this card for later?" in alex.last_text
    await alex.press("💾 Save this card for later")
    assert alex.last_text.startswith(f"💳 Paying $37.99 for order #{placed.number} with a new card.\n\n")
    assert "step 1 of 4" in alex.last_text
    for text in (VISA, "12/29", "IVAN PETROV"):
        await alex.send(text)
    assert "💳 Paying $37.99" in alex.last_text and "step 4 of 4" in alex.last_text
    await alex.send("123")
    text = alex.last_text
    assert "✅ Card added: Visa •••• 4242." in text and "✅ Paid $37.99 with Visa •••• 4242." in text
    assert "📦 Awaiting shipment" in text
    assert [c.last4 for c in await app.services.cards.wallet(alex.user.id)] == ["4242"]
    assert len(gateway(app).charges) == 1


async def test_pay_with_a_new_card_just_this_once_and_its_refund_goes_back_to_it(app: App, alex: Player) -> None:
    await alex.send("/start")
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("➕ New card")
    await alex.press("Use it just this once")
    assert "The card will not be kept." in alex.last_text
    for text in (VISA, "12/29", "IVAN PETROV", "123"):
        await alex.send(text)
    text = alex.last_text
    assert "✅ Paid $37.99 with Visa •••• 4242." in text
    assert "The card was used for this payment only and is not kept in your wallet." in text
    assert "We held $1.00 to check it; it will be released within a day." in text
    assert "Card added" not in text
    assert await app.services.cards.wallet(alex.user.id) == []
    row = await order(app, placed.id, alex.user.id)
    assert (row.paid_card_id, row.paid_card_last4, row.paid_charge_id) == (None, "4242", gateway(app).charges[0].id)
    async with app.services.db.read() as conn:
        assert (await conn.exec_driver_sql("SELECT count(*) FROM cards")).scalar_one() == 0  # never in the wallet
    # cancelling the paid order: the money goes back through the charge, to that card
    await open_order(alex, placed.id)
    await alex.press("✖️ Cancel order")
    await alex.press_data(OrderCb(action=OrderAction.cancel_reason, id=placed.id, reason="changed_mind").pack())
    assert "The money goes back to Visa •••• 4242." in alex.last_text
    # the sweeper pays it out; the order card then shows it done
    await alex.press("✖️ Yes, cancel the order")
    done = await build_sweeper(app.services)(app.clock.now())
    assert done["refunds_pay_out"] == 1 and gateway(app).refunds[0].charge_id == row.paid_charge_id
    await open_order(alex, placed.id)
    assert "💸 Refund of $37.99 to Visa •••• 4242: done on" in alex.last_text


async def pay_with_the_saved_visa_then_ask_to_cancel(app: App, alex: Player):
    """A new buyer saves a Visa, pays an order with it, and asks to cancel (the confirmation is on
    screen)."""
    await alex.send("/start")
    await add_card(alex)
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("⭐ Visa •••• 4242 · 12/29")
    await alex.press("✅ Pay $37.99")
    await alex.press("✖️ Cancel order")
    await alex.press_data(OrderCb(action=OrderAction.cancel_reason, id=placed.id, reason="changed_mind").pack())
    return placed


async def test_a_refund_goes_back_to_a_saved_card_that_is_still_there(app: App, alex: Player) -> None:
    await pay_with_the_saved_visa_then_ask_to_cancel(app, alex)
    assert "The money goes back to Visa •••• 4242." in alex.last_text


async def test_forged_order_and_card_ids(app: App, alex: Player) -> None:
    bob = app.player(3003, first_name="Bob")
    await alex.send("/start")
    await bob.send("/start")
    await add_card(alex)
    await add_card(bob, "5555 5555 5555 4444", "BOB ROSS")
    bobs_order = await place(app.services, bob.user.id)
    alexs_order = await place(app.services, alex.user.id)
    bobs_card = (await app.services.cards.wallet(bob.user.id))[0].id
    alexs_card = (await app.services.cards.wallet(alex.user.id))[0].id
    for action in (PayAction.choose, PayAction.new, PayAction.new_go):
        await alex.press_data(PayCb(action=action, id=bobs_order.id).pack())
        assert alex.alerts()[-1] == "This order is no longer available."
        assert bobs_order.number not in alex.last_text
    await alex.press_data(PayCb(action=PayAction.confirm, id=bobs_order.id, card=alexs_card).pack())
    assert alex.alerts()[-1] == "This order is no longer available."
    # Bob's card on Alex's order: not offered, not charged
    for action in (PayAction.card, PayAction.confirm):
        await alex.press_data(PayCb(action=action, id=alexs_order.id, card=bobs_card).pack())
        assert alex.alerts()[-1] == "This card is no longer available."
        assert "Choose a card:" in alex.last_text and "5555" not in alex.last_text
    assert gateway(app).charges == []
    assert (await order(app, bobs_order.id, bob.user.id)).status == Status.awaiting_payment


async def test_a_restart_before_confirming_and_in_the_new_card_flow(app: App, alex: Player) -> None:
    await alex.send("/start")
    await add_card(alex)
    first = await place(app.services, alex.user.id)
    await open_order(alex, first.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("⭐ Visa •••• 4242 · 12/29")
    await app.restart()
    await alex.press("✅ Pay $37.99")
    assert alex.last_text.startswith("✅ Paid $37.99 with Visa •••• 4242.")
    assert len(gateway(app).charges) == 1
    # the new-card flow: the gateway forgets the number over a restart; paying is remembered
    second = await place(app.services, alex.user.id)
    await open_order(alex, second.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("➕ New card")
    await alex.press("💾 Save this card for later")
    await alex.send("5555 5555 5555 4444")
    await app.restart()
    await alex.send("12/29")
    assert "the card number is kept only for a few minutes" in alex.last_text
    assert f"💳 Paying $37.99 for order #{second.number}" in alex.last_text
    for text in ("5555 5555 5555 4444", "12/29", "ALEX DOE", "123"):
        await alex.send(text)
    assert "✅ Paid $37.99 with Mastercard •••• 4444." in alex.last_text
    assert (await order(app, second.id, alex.user.id)).status == Status.awaiting_shipment


async def test_back_from_the_new_card_number_returns_to_the_choice(app: App, alex: Player) -> None:
    await alex.send("/start")
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("➕ New card")
    await alex.press("💾 Save this card for later")
    await alex.press("‹ Back")
    assert f"<b>💳 Payment for order #{placed.number}</b>" in alex.last_text


# -- the links between sections ------------------------------------------------------------------
async def test_deleting_a_card_that_paid_an_order_in_delivery_warns(app: App, alex: Player) -> None:
    await alex.send("/start")
    await add_card(alex)
    card_id = (await app.services.cards.wallet(alex.user.id))[0].id
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("⭐ Visa •••• 4242 · 12/29")
    await alex.press("✅ Pay $37.99")
    await app.services.orders.ship(alex.user.id, placed.id, "LP123456789CN")
    await alex.press_data(CardCb(action=CardAction.delete, id=card_id).pack())
    text = alex.last_text
    assert "⚠️ 1 order paid with this card is not finished yet:" in text and "in delivery: 1" in text
    assert "Refunds for them still go to this card's bank account" in text


async def test_a_card_with_a_refund_pending_warns_too(app: App, alex: Player) -> None:
    await alex.send("/start")
    await add_card(alex)
    card = (await app.services.cards.wallet(alex.user.id))[0]
    placed = await place(app.services, alex.user.id)
    await app.services.pay.pay(alex.user.id, placed.id, card.id)
    await app.services.orders.cancel(alex.user.id, placed.id, "changed_mind")
    await alex.press_data(CardCb(action=CardAction.delete, id=card.id).pack())
    assert "waiting for a refund: 1" in alex.last_text


async def test_deleting_an_address_with_an_undelivered_order_warns(app: App, alex: Player) -> None:
    await alex.send("/start")
    address = await app.services.addresses.add(alex.user.id, CALIFORNIA)
    store = await app.services.orders.ensure_store("Nova Electronics")
    placed = await app.services.orders.create(user_id=alex.user.id, store_id=store, items=[EARBUDS],
                                              currency="USD", address=HOME, address_id=address.id)
    await alex.press_data(AddressCb(action=AddressAction.delete, id=address.id).pack())
    assert "1 order that is not delivered yet was placed with this address." in alex.last_text
    await alex.press("🗑 Yes, delete")
    row = await order(app, placed.id, alex.user.id)
    assert row.address_id is None and "John Smith" in row.shipping_address  # the book's entry, kept


async def test_russian_new_card_just_this_once(app: App, masha: Player) -> None:
    await masha.send("/start")
    placed = await place(app.services, masha.user.id)
    await open_order(masha, placed.id)
    await masha.press("💳 Оплатить 37,99\xa0$")
    await masha.press("➕ Новая карта")
    assert "Сохранить карту на будущее?" in masha.last_text
    await masha.press("Оплатить без сохранения")
    assert masha.last_text.startswith(
        f"💳 Оплата 37,99\xa0$ за заказ № {placed.number} новой картой. Карта не будет сохранена.")
    for text in (VISA, "12/29", "IVAN PETROV", "123"):
        await masha.send(text)
    assert "✅ Оплачено 37,99\xa0$ картой Visa •••• 4242." in masha.last_text
    assert "Карта использована только для этой оплаты" in masha.last_text
    assert await app.services.cards.wallet(masha.user.id) == []


async def test_a_full_wallet_can_still_pay_with_a_card_used_once(app: App, alex: Player) -> None:
    await alex.send("/start")
    await fill_wallet(app, alex.user.id)
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("➕ New card")
    assert ("Your wallet already holds 5 cards, the most it can, so this card is used for this payment only."
            in alex.last_text)
    assert "💾 Save this card for later" not in labels(alex) and "Use it just this once" in labels(alex)
    # a stale "Save" button (pressed after the wallet filled up) says why and offers the wallet's cards
    await alex.press_data(PayCb(action=PayAction.new_go, id=placed.id, save=True).pack())
    assert "You already have 5 cards" in alex.alerts()[-1] and "Choose a card:" in alex.last_text
    await alex.press("➕ New card")
    await alex.press("Use it just this once")
    for text in ("6759 6498 2643 8453", "12/29", "IVAN PETROV", "123"):
        await alex.send(text)
    assert "✅ Paid $37.99 with Maestro •••• 8453." in alex.last_text
    assert len(await app.services.cards.wallet(alex.user.id)) == 5


async def test_russian_full_wallet_pays_with_a_card_used_once(app: App, masha: Player) -> None:
    await masha.send("/start")
    await fill_wallet(app, masha.user.id)
    placed = await place(app.services, masha.user.id)
    await open_order(masha, placed.id)
    await masha.press("💳 Оплатить 37,99\xa0$")
    await masha.press("➕ Новая карта")
    assert "У вас уже сохранено 5 карт — это максимум" in masha.last_text
    assert labels(masha)[0] == "Оплатить без сохранения"


async def test_the_buyers_own_steps_are_not_pushed_back_but_the_refund_payout_is(app: App, alex: Player) -> None:
    placed = await pay_with_the_saved_visa_then_ask_to_cancel(app, alex)
    await alex.press("✖️ Yes, cancel the order")
    sent_before = len(app.session.calls_of(SendMessage))
    delivery = sim_delivery(app)  # (the card's expiry reminder waits for 2029)
    await delivery(app.clock.now())
    assert len(app.session.calls_of(SendMessage)) == sent_before  # paid, cancelled, refund issued: all seen
    await build_sweeper(app.services)(app.clock.now())  # the refund is paid out: that is news
    await delivery(app.clock.now())
    pushed = [c.text for c in app.session.calls_of(SendMessage)][sent_before:]
    assert pushed == [  # news: the $1 check released, the refund paid out
        "💳 The $1.00 check of Visa •••• 4242 is over: the hold is released and the money is available again.",
        f"💸 The refund of $37.99 for order #{placed.number} has been paid to Visa •••• 4242."]
    await alex.send("/menu")
    await alex.press("🔔 Messages")
    assert "2 unread" in alex.last_text  # those two; the buyer's own steps are listed, read
    labels = [t for t, _ in alex.buttons()]
    assert sum("Nov 25, 2026" in t for t in labels) == 5 and sum(t.startswith("🔵") for t in labels) == 2


async def test_a_payment_whose_outcome_was_not_recorded_is_checked_and_the_buyer_hears(app: App,
                                                                                      alex: Player) -> None:
    """Issue 15: the charge goes through but the database refuses to record it. The buyer is told
    the payment is being checked (not "nothing you entered was lost"), can't pay twice meanwhile,
    and hears the outcome from the sweeper."""
    from tests.services.test_payment_attempts import database_locked_on

    await alex.send("/start")
    await add_card(alex)
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("⭐ Visa •••• 4242 · 12/29")
    with database_locked_on(app, "UPDATE orders"):
        await alex.press("✅ Pay $37.99")
    text = alex.last_text
    assert text.startswith("⏳ We could not confirm the payment yet. We are checking it with the payment service")
    assert "💳 Awaiting payment" in text
    assert not any("nothing you entered" in t for t in [text, *alex.alerts()])
    assert len(gateway(app).charges) == 1
    await alex.press("💳 Pay $37.99")  # meanwhile: no second payment
    assert alex.alerts()[-1] == "A payment for this order is already being processed. Open the order again in a minute."
    assert len(gateway(app).charges) == 1
    app.clock.advance(minutes=3)
    sent_before = len(app.session.calls_of(SendMessage))
    done = await build_sweeper(app.services)(app.clock.now())
    assert done["payments_reconcile"] == 1
    await sim_delivery(app)(app.clock.now())
    pushed = [c.text for c in app.session.calls_of(SendMessage)][sent_before:]
    assert (f"✅ The payment of $37.99 for order #{placed.number} went through: paid with Visa •••• 4242. "
            "The order is waiting for the seller to ship it.") in pushed
    row = await order(app, placed.id, alex.user.id)
    assert (row.status, row.paid_charge_id) == (Status.awaiting_shipment, gateway(app).charges[0].id)
    await open_order(alex, placed.id)
    assert "📦 Awaiting shipment" in alex.last_text and "💳 Paid with Visa •••• 4242" in alex.last_text


async def test_russian_a_gateway_that_does_not_answer_and_charged_nothing(app: App, masha: Player) -> None:
    await masha.send("/start")
    await seed_cards(app.services.cards, masha.user.id)
    placed = await place(app.services, masha.user.id)
    gw = gateway(app)

    async def no_answer(*args):
        raise TimeoutError("the gateway did not answer in time")

    gw.charge = no_answer  # type: ignore[method-assign]
    await open_order(masha, placed.id)
    await masha.press("💳 Оплатить 37,99\xa0$")
    await masha.press("⭐ Visa •••• 4242 · 08/29")
    await masha.press("✅ Оплатить 37,99\xa0$")
    assert masha.last_text.startswith("⏳ Подтвердить оплату пока не удалось. Мы проверяем её в платёжном сервисе")
    del gw.charge
    app.clock.advance(minutes=3)
    sent_before = len(app.session.calls_of(SendMessage))
    await build_sweeper(app.services)(app.clock.now())
    await sim_delivery(app)(app.clock.now())
    pushed = [c.text for c in app.session.calls_of(SendMessage)][sent_before:]
    assert pushed == [f"❌ Оплата 37,99\xa0$ за заказ № {placed.number} не прошла: деньги не списаны. "
                      "Заказ можно оплатить снова."]
    await open_order(masha, placed.id)  # and it can: a new request, charged once
    await masha.press("💳 Оплатить 37,99\xa0$")
    await masha.press("⭐ Visa •••• 4242 · 08/29")
    await masha.press("✅ Оплатить 37,99\xa0$")
    assert masha.last_text.startswith("✅ Оплачено 37,99\xa0$ картой Visa •••• 4242.")
    assert len(gw.charges) == 1


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_refund_to_a_card_replaced_by_its_reissue_goes_to_the_card(app: App, lang: str) -> None:
    """Replace with the same number and a new expiry (the bank reissued the card): the wallet still
    has that card, so a cancellation refunds to it, not to "the account of a card no longer in your
    profile" (issue 14). A card replaced by a different card is gone: its bank account is credited."""
    ru = lang == "ru"
    p = app.player(2002 if ru else 1001, first_name="Ivan", language_code=lang)
    await p.send("/start")
    await add_card(p)
    placed = await place(app.services, p.user.id)
    await open_order(p, placed.id)
    await p.press("💳 Оплатить" if ru else "💳 Pay $37.99")
    await p.press("⭐ Visa •••• 4242")
    await p.press("✅ Оплатить" if ru else "✅ Pay $37.99")
    await p.send("/menu")
    await p.press("💳 Банковские карты" if ru else "💳 Bank cards")
    await p.press("⭐ Visa •••• 4242")
    await p.press("🔄 Заменить" if ru else "🔄 Replace")
    for text in (VISA, "08/31", "IVAN PETROV", "123"):
        await p.send(text)
    assert [(c.last4, c.exp_year, c.is_default) for c in await app.services.cards.wallet(p.user.id)] == [
        ("4242", 2031, True)]
    await open_order(p, placed.id)
    await p.press("✖️ Отменить заказ" if ru else "✖️ Cancel order")
    await p.press_data(OrderCb(action=OrderAction.cancel_reason, id=placed.id, reason="changed_mind").pack())
    assert ("Деньги вернутся на карту Visa •••• 4242." if ru
            else "The money goes back to Visa •••• 4242.") in p.last_text
    assert ("больше нет" if ru else "no longer") not in p.last_text



async def test_a_refund_to_a_card_replaced_by_another_card_goes_to_its_account(app: App, alex: Player) -> None:
    await alex.send("/start")
    await add_card(alex)
    placed = await place(app.services, alex.user.id)
    await open_order(alex, placed.id)
    await alex.press("💳 Pay $37.99")
    await alex.press("⭐ Visa •••• 4242")
    await alex.press("✅ Pay $37.99")
    await alex.send("/menu")
    await alex.press("💳 Bank cards")
    await alex.press("⭐ Visa •••• 4242")
    await alex.press("🔄 Replace")
    for text in ("5555 5555 5555 4444", "08/31", "IVAN PETROV", "123"):
        await alex.send(text)
    await open_order(alex, placed.id)
    await alex.press("✖️ Cancel order")
    await alex.press_data(OrderCb(action=OrderAction.cancel_reason, id=placed.id, reason="changed_mind").pack())
    assert "Visa •••• 4242 is no longer in your account" in alex.last_text
