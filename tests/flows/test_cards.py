"""Bank cards through the Dispatcher: the wallet, the add-card flow in both languages, every bad
input at every step, declines, duplicates, the limit, defaults, replace, delete, forged ids,
restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import DeleteMessage

from bot.fakebot import Player
from bot.integrations.payments import SandboxGateway
from bot.keyboards.cards import CardAction, CardCb
from bot.keyboards.orders import OrderAction, OrderCb
from bot.services.cards import CARD_LIMIT, CardUsageSummary
from bot.views import cards as views
from bot.views.common import Fmt
from tests.conftest import App

VISA = "4242 4242 4242 4242"
MASTERCARD = "5555 5555 5555 4444"
MIR = "2200 0000 0000 0004"
AMEX = "3782 822463 10005"


def deleted_ids(app: App, player: Player) -> set[int]:
    return {c.message_id for c in app.session.calls_of(DeleteMessage) if int(c.chat_id) == player.user.id}


async def fsm(app: App, player: Player) -> tuple[str | None, dict[str, Any]]:
    key = StorageKey(bot_id=app.bot.id, chat_id=player.user.id, user_id=player.user.id)
    return await app.dp.storage.get_state(key), await app.dp.storage.get_data(key)


async def open_wallet(p: Player, label: str = "💳 Bank cards") -> None:
    await p.send("/menu")
    await p.press(label)


async def add_card(p: Player, number: str = VISA, expiry: str = "12/29", holder: str = "IVAN PETROV",
                   cvc: str = "123", *, add: str = "➕ Add a card") -> None:
    await p.press(add)
    await p.send(number)
    await p.send(expiry)
    await p.send(holder)
    await p.send(cvc)


def gateway(app: App) -> SandboxGateway:
    assert isinstance(app.services.payments, SandboxGateway)
    return app.services.payments


# -- adding -----------------------------------------------------------------------------------
async def test_add_a_card_step_by_step(app: App, alex: Player) -> None:
    await open_wallet(alex)
    assert "No cards yet" in alex.last_text and "we keep only the last 4 digits" in alex.last_text
    await alex.press("➕ Add a card")
    assert "<b>New card</b> · step 1 of 4" in alex.last_text
    assert [t for t, _ in alex.buttons()] == ["‹ Back", "✖ Cancel"]
    number = await alex.send(VISA)
    assert number.message_id in deleted_ids(app, alex)
    assert number.message_id not in alex.log.messages  # gone from the chat
    assert alex.last_text.startswith("✅ Visa •••• 4242\n\n<b>New card</b> · step 2 of 4")
    state, data = await fsm(app, alex)
    assert state == "CardFlow:expiry"
    assert set(data) == {"sid", "brand", "last4"} and (data["brand"], data["last4"]) == ("visa", "4242")
    await alex.send("12/29")
    assert "step 3 of 4" in alex.last_text and "no name on your card" in alex.last_text
    await alex.send("ivan petrov")
    text = alex.last_text
    assert "step 4 of 4" in text and "<b>Visa •••• 4242</b>" in text and "Valid thru: 12/29" in text
    assert "IVAN PETROV" in text and "the bank holds $1.00; it is released within a day" in text
    assert [t for t, _ in alex.buttons()] == ["✏️ Number", "✏️ Expiry", "✏️ Name", "‹ Back", "✖ Cancel"]
    cvc = await alex.send("123")
    assert cvc.message_id in deleted_ids(app, alex)
    assert alex.last_text.startswith(
        "✅ Card added: Visa •••• 4242.\n"
        "We held $1.00 to check it; it will be released within a day.\n"
        "⭐ It is your default card."
    )
    assert "⭐ <b>Visa •••• 4242</b> · 12/29" in alex.last_text
    assert "You have 1 card; a wallet holds up to 5." in alex.last_text
    assert await fsm(app, alex) == (None, {})
    assert gateway(app)._sessions == {}  # the number is gone from the gateway too
    # the $1 hold is released by the sweeper, and a push is written for the user
    from bot.db import outbox
    from bot.runner import build_sweeper

    await build_sweeper(app.services)(app.clock.now())
    async with app.services.db.read() as conn:
        (row,) = await outbox.for_user(conn, alex.user.id, "card_hold_released")
    assert row.kind == "card_hold_released" and row.payload["last4"] == "4242"


async def test_add_a_card_in_russian(app: App, masha: Player) -> None:
    await open_wallet(masha, "💳 Банковские карты")
    assert "<b>💳 Банковские карты</b>" in masha.last_text and "Карт пока нет" in masha.last_text
    await masha.press("➕ Добавить карту")
    assert "<b>Новая карта</b> · шаг 1 из 4" in masha.last_text
    await masha.send(MIR)
    assert masha.last_text.startswith("✅ Мир •••• 0004")
    await masha.send("5/2030")
    await masha.send("Мария Иванова")
    assert masha.last_text.startswith("Имя на банковской карте пишется латиницей")
    await masha.press("Использовать MARIIA IVANOVA")
    assert "шаг 4 из 4" in masha.last_text and "Действует до: 05/30" in masha.last_text
    assert "банк заблокирует 1,00\xa0$" in masha.last_text
    await masha.send("321")
    assert masha.last_text.startswith("✅ Карта добавлена: Мир •••• 0004.\nДля проверки мы заблокировали 1,00\xa0$")
    assert "У вас 1 карта; всего можно добавить до 5." in masha.last_text
    await masha.press("⭐ Мир •••• 0004")
    assert "Владелец: MARIIA IVANOVA" in masha.last_text and "Добавлена: 25 нояб. 2026" in masha.last_text


async def test_amex_has_a_four_digit_code(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await alex.press("➕ Add a card")
    await alex.send(AMEX)
    await alex.send("0330")
    await alex.send("Jo O'Neil")
    assert "4-digit code (CID)" in alex.last_text
    await alex.send("123")
    assert alex.last_text.startswith("An American Express card has a 4-digit code")
    await alex.send("1234")
    assert alex.last_text.startswith("✅ Card added: American Express •••• 0005.")


async def test_every_bad_input_at_every_step(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await alex.press("➕ Add a card")
    # 1. the number
    for typed, needle, deleted in [
        ("hello", "made of digits", False),
        ("<b>hi</b> 🙂", "made of digits", False),
        ("4242 4242 4242 4241", "the number has a typo", True),
        ("4242 4242", "12 to 19 digits, and this one has 8", True),
        ("9" * 5000, "12 to 19 digits, and this one has 5000", True),
        ("6011 1111 1111 1117", "among those we accept", True),
        ("<i>4242</i> 4242 4242 4242", "made of digits", True),
    ]:
        sent = await alex.send(typed)
        assert needle in alex.last_text, typed
        assert "step 1 of 4" in alex.last_text
        assert (sent.message_id in deleted_ids(app, alex)) is deleted, typed
    await alex.send_sticker()
    assert alex.last_text.startswith("Please send the card number as a text message.")
    photo = await alex.send_photo(caption="my card")
    assert photo.message_id in deleted_ids(app, alex)
    assert alex.last_text.startswith("⚠️ I deleted the picture")
    assert (await fsm(app, alex))[0] == "CardFlow:number"
    await alex.send(VISA)
    # 2. the expiry
    for typed, needle in [("13/28", "There is no month 13"), ("10/26", "expired at the end of 10/2026"),
                          ("tomorrow", "for example 05/28"), ("<b>05/28</b>", "for example 05/28"),
                          ("05/60", "check the year"), ("🙂" * 300, "for example 05/28")]:
        await alex.send(typed)
        assert needle in alex.last_text and "step 2 of 4" in alex.last_text, typed
    await alex.send_sticker()
    assert alex.last_text.startswith("Please send the expiry date as text")
    pasted = await alex.send("4242 4242 4242 4242")  # the number again, where the date belongs
    assert pasted.message_id in deleted_ids(app, alex)
    assert alex.last_text.startswith("⚠️ That looked like a card number, so I deleted it.")
    await alex.send("11/26")  # this month: still valid
    # 3. the holder
    for typed, needle in [("A" * 27, "at most 26 characters, and this one has 27"),
                          ("<b>Ivan</b>", "Use only Latin letters"), ("I", "at least two letters"),
                          ("🙂", "in Latin letters (A–Z)")]:
        await alex.send(typed)
        assert needle in alex.last_text and "step 3 of 4" in alex.last_text, typed
        assert "&lt;b&gt;" not in alex.last_text and "<b>Ivan" not in alex.last_text
    assert not any(t.startswith("Use ") for t, _ in alex.buttons())  # no transliteration to offer
    await alex.send_sticker()
    assert alex.last_text.startswith("Please type the cardholder's name as text")
    await alex.send("Alex O’Brien")
    assert "ALEX O'BRIEN" in alex.last_text
    # 4. the CVC: every message here is deleted at once
    for typed, needle in [("12", "The CVC is the 3 digits"), ("1234", "The CVC is the 3 digits"),
                          ("abc", "The CVC is the 3 digits"), ("<b>123</b>", "The CVC is the 3 digits")]:
        sent = await alex.send(typed)
        assert sent.message_id in deleted_ids(app, alex)
        assert needle in alex.last_text and "step 4 of 4" in alex.last_text, typed
    await alex.send_sticker()
    assert alex.last_text.startswith("Please send the code as a text message.")
    await alex.send("999")
    assert alex.last_text.startswith("✅ Card added: Visa •••• 4242.")
    assert "11/26" in alex.last_text


async def test_when_the_message_cannot_be_deleted_the_user_is_asked_to(app: App, alex: Player) -> None:
    def refuse(bot: Any, method: Any) -> Any:
        raise TelegramBadRequest(method=method, message="Bad Request: message can't be deleted for everyone")

    app.session.responders[DeleteMessage] = refuse
    await open_wallet(alex)
    await alex.press("➕ Add a card")
    await alex.send(VISA)
    assert alex.last_text.startswith("⚠️ I couldn't delete your message with the card details. Please delete it yourself")
    assert "step 2 of 4" in alex.last_text
    await alex.send("12/29")
    await alex.send("IVAN PETROV")
    await alex.send("123")
    assert alex.last_text.startswith("⚠️ I couldn't delete your message")
    assert "✅ Card added: Visa •••• 4242." in alex.last_text


async def test_card_number_sent_outside_the_flow_is_deleted(app: App, alex: Player, masha: Player) -> None:
    await alex.send("/start")
    sent = await alex.send("my card is 4242-4242-4242-4242, please save it")
    assert sent.message_id in deleted_ids(app, alex)
    assert alex.last_text.startswith("⚠️ That looked like a card number, so I deleted it")
    await alex.press("💳 Bank cards")
    assert "No cards yet" in alex.last_text
    await masha.send("2200 0000 0000 0004")
    assert masha.last_text.startswith("⚠️ Это было похоже на номер карты")
    other = await alex.send("order 1234567890123")  # digits, but not a card number
    assert other.message_id not in deleted_ids(app, alex)


# -- declines ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("4000 0000 0000 9995", "there isn't enough money on it"),
        ("4000 0000 0000 0002", "The bank declined the card. Your bank can tell you why"),
        ("4000 0000 0000 0069", "The bank says this card has expired."),
    ],
)
async def test_declined_cards_are_not_saved(app: App, alex: Player, number: str, reason: str) -> None:
    await open_wallet(alex)
    await add_card(alex, number)
    assert alex.last_text.startswith("❌ ") and reason in alex.last_text
    assert "The card was not saved." in alex.last_text
    assert [t for t, _ in alex.buttons()] == ["➕ Try another card", "💳 Bank cards", "☰ Menu"]
    assert await fsm(app, alex) == (None, {})
    assert await app.services.cards.wallet(alex.user.id) == []
    await alex.press("➕ Try another card")
    assert "step 1 of 4" in alex.last_text


async def test_wrong_cvc_is_asked_again_then_declined(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await add_card(alex, "4000 0000 0000 0127")
    assert alex.last_text.startswith("The bank says the CVC is wrong. 2 more tries; after that the card is not saved.")
    assert "step 4 of 4" in alex.last_text
    await alex.send("456")
    assert alex.last_text.startswith("The bank says the CVC is wrong. 1 more try; after that the card is not saved.")
    assert "step 4 of 4" in alex.last_text
    await alex.send("789")  # the third wrong code: the bank gives up on this card
    assert alex.last_text.startswith("❌ The bank says the CVC is wrong.\nThe card was not saved.")
    assert await fsm(app, alex) == (None, {})


async def test_provider_failure_keeps_the_step(app: App, masha: Player) -> None:
    await open_wallet(masha, "💳 Банковские карты")
    await add_card(masha, "4000 0000 0000 0119", add="➕ Добавить карту")
    assert masha.last_text.startswith("Платёжный сервис не ответил. Деньги не списаны")
    assert (await fsm(app, masha))[0] == "CardFlow:cvc"


# -- duplicate, limit -------------------------------------------------------------------------
async def test_the_same_card_twice(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await add_card(alex, VISA)
    await alex.press("➕ Add a card")
    await alex.send("4242424242424242")
    assert alex.last_text.startswith("This card is already in your wallet.")
    assert "<b>💳 Bank cards</b>" in alex.last_text
    assert await fsm(app, alex) == (None, {})
    assert len(await app.services.cards.wallet(alex.user.id)) == 1


async def test_the_reissue_of_an_expired_card_replaces_it(app: App, alex: Player) -> None:
    """The number of an expired card in the wallet is the bank's reissue: it is taken, and saving it
    replaces the expired card (from "Add a card" and from Pay's new card alike)."""
    from bot import demo
    from tests.orderkit import place

    await demo.seed(app.services, user_id=alex.user.id)  # a default Visa and an expired Mastercard •••• 4444
    before = {c.last4: c for c in await app.services.cards.wallet(alex.user.id)}
    assert before["4444"].expired and not before["4242"].expired
    order = await place(app.services, alex.user.id)
    await alex.send("/start")
    await alex.press_data(OrderCb(action=OrderAction.open, id=order.id).pack())
    await alex.press("💳 Pay $37.99")
    await alex.press("➕ New card")
    await alex.press("💾 Save this card for later")
    await alex.send(MASTERCARD)
    assert "♻️ This is your expired Mastercard •••• 4444, reissued" in alex.last_text
    await alex.send("09/31")
    await alex.send("IVAN PETROV")
    await alex.send("123")
    cards = {c.last4: c for c in await app.services.cards.wallet(alex.user.id)}
    assert cards["4444"].id != before["4444"].id and (cards["4444"].exp_month, cards["4444"].exp_year) == (9, 2031)
    assert len(cards) == len(before)  # replaced, not added
    assert (await app.services.orders.by_number(order.number)).status == "awaiting_shipment"



async def test_another_number_after_a_reissue_replaces_nothing(app: App, alex: Player) -> None:
    from bot import demo

    await demo.seed(app.services, user_id=alex.user.id)  # a default Visa and an expired Mastercard •••• 4444
    await open_wallet(alex)
    await alex.press("➕ Add a card")
    await alex.send(MASTERCARD)
    assert "♻️ This is your expired Mastercard •••• 4444, reissued" in alex.last_text
    await alex.press("‹ Back")  # not that one after all
    await alex.send("5200 8282 8282 8210")
    assert "reissued" not in alex.last_text and "Replacing" not in alex.last_text
    await alex.send("09/31")
    await alex.send("IVAN PETROV")
    await alex.send("123")
    assert sorted(c.last4 for c in await app.services.cards.wallet(alex.user.id)) == ["4242", "4444", "8210"]


async def test_sixth_card_is_refused(app: App, alex: Player) -> None:
    await open_wallet(alex)
    for i in range(CARD_LIMIT):
        number = f"41{i:013d}"
        number += next(d for d in "0123456789" if _luhn(number + d))
        await add_card(alex, number)
        assert alex.last_text.startswith("✅ Card added")
    assert "You have 5 cards" in alex.last_text
    assert "➕ Add a card" not in [t for t, _ in alex.buttons()]
    # an old "Add" button still cannot add a sixth
    await alex.press_data(CardCb(action=CardAction.add).pack())
    assert alex.alerts()[-1] == "You already have 5 cards, the most a wallet can hold. Delete one to add another."
    assert (await fsm(app, alex))[0] is None


def _luhn(digits: str) -> bool:
    from bot.services.card_numbers import luhn_ok

    return luhn_ok(digits)


# -- default, replace, delete -----------------------------------------------------------------
async def test_default_switching_and_deleting_the_default(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await add_card(alex, VISA)
    app.clock.advance(minutes=1)
    await add_card(alex, MASTERCARD, holder="IVAN PETROV")
    app.clock.advance(minutes=1)
    await add_card(alex, MIR, holder="IVAN PETROV")
    assert [t for t, _ in alex.buttons()][:3] == ["⭐ Visa •••• 4242", "Mastercard •••• 4444", "Mir •••• 0004"]
    await alex.press("Mastercard •••• 4444")
    assert "⭐ Make it the default card" in [t for t, _ in alex.buttons()]
    await alex.press("⭐ Make it the default card")
    assert alex.alerts()[-1] == "⭐ Mastercard •••• 4444 is now your default card."
    assert "⭐ Your default card" in alex.last_text
    assert "⭐ Make it the default card" not in [t for t, _ in alex.buttons()]
    # the old button again: already done
    await alex.press_data(CardCb(action=CardAction.set_default, id=2).pack())
    assert alex.alerts()[-1] == "This card is already your default."
    await alex.press("🗑 Delete")
    assert alex.last_text.startswith("Delete <b>Mastercard •••• 4444</b> from your wallet?")
    assert "It is your default card" in alex.last_text
    await alex.press("‹ No, keep it")
    assert alex.last_text.startswith("<b>Mastercard •••• 4444</b>")
    await alex.press("🗑 Delete")
    confirm = alex.last
    await alex.press("🗑 Yes, delete")
    assert alex.last_text.startswith("🗑 Mastercard •••• 4444 is deleted.\n⭐ Mir •••• 0004 is now your default card.")
    assert alex.alerts()[-1] == "Card deleted"
    assert [t for t, _ in alex.buttons()][:2] == ["Visa •••• 4242", "⭐ Mir •••• 0004"]
    # a double tap on "Yes, delete"
    await alex.press_data(CardCb(action=CardAction.delete_ok, id=2).pack(), confirm)
    assert alex.alerts()[-1] == "This card has already been deleted."
    assert "<b>💳 Bank cards</b>" in alex.last_text
    # opening it from an old message
    await alex.press_data(CardCb(action=CardAction.open, id=2).pack())
    assert alex.alerts()[-1] == "This card is no longer available."


async def test_expired_card_is_marked_and_cannot_be_default(app: App, alex: Player) -> None:
    from bot import demo

    await demo.seed(app.services, user_id=alex.user.id)
    await open_wallet(alex)
    assert "Mastercard •••• 4444</b> · 09/26 · ⚠️ expired" in alex.last_text
    await alex.press("Mastercard •••• 4444 ⚠️")
    assert "⚠️ Expired at the end of 09/26" in alex.last_text
    assert "⭐ Make it the default card" not in [t for t, _ in alex.buttons()]
    await alex.press_data(CardCb(action=CardAction.set_default, id=1).pack())
    assert alex.alerts()[-1] == "This card has expired. Add a new card, or replace this one."


async def test_delete_warns_about_unfinished_orders(app: App, alex: Player, masha: Player) -> None:
    class Orders:
        async def pending_orders(self, user_id: int, card_id: int) -> CardUsageSummary:
            return CardUsageSummary(in_delivery=1, in_dispute=0, refund_pending=1)

    app.services.cards.usage = Orders()
    await open_wallet(alex)
    await add_card(alex, VISA)
    await alex.press("⭐ Visa •••• 4242")
    await alex.press("🗑 Delete")
    text = alex.last_text
    assert "⚠️ 2 orders paid with this card are not finished yet:" in text
    assert "• in delivery: 1" in text and "• waiting for a refund: 1" in text and "in a dispute" not in text
    assert "Refunds for them still go to this card's bank account" in text
    await alex.press("🗑 Yes, delete")
    assert await app.services.cards.wallet(alex.user.id) == []
    # in Russian, with the plural form for 2
    await open_wallet(masha, "💳 Банковские карты")
    await add_card(masha, MIR, add="➕ Добавить карту")
    await masha.press("⭐ Мир •••• 0004")
    await masha.press("🗑 Удалить")
    assert "⚠️ 2 заказа, оплаченных этой картой, ещё не завершены:" in masha.last_text
    assert "• в доставке: 1" in masha.last_text


async def test_no_warning_without_unfinished_orders(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await add_card(alex, VISA)
    await alex.press("⭐ Visa •••• 4242")
    await alex.press("🗑 Delete")
    assert "not finished" not in alex.last_text


async def test_replace_a_card(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await add_card(alex, VISA)
    await add_card(alex, MIR)
    await alex.press("⭐ Visa •••• 4242")
    await alex.press("🔄 Replace")
    assert alex.last_text.startswith(
        "The new card is checked first; once it is added, it takes the place of Visa •••• 4242."
    )
    assert "<b>Replacing Visa •••• 4242</b> · step 1 of 4" in alex.last_text
    await alex.send(MASTERCARD)
    assert "<b>Replacing Visa •••• 4242</b> · step 2 of 4" in alex.last_text
    await alex.send("08/30")
    await alex.send("IVAN PETROV")
    await alex.send("123")
    assert alex.last_text.startswith("✅ Card replaced: Mastercard •••• 4444 took the place of Visa •••• 4242.")
    assert "⭐ It is your default card." in alex.last_text
    assert [(c.last4, c.is_default) for c in await app.services.cards.wallet(alex.user.id)] == [
        ("0004", False), ("4444", True)
    ]
    # the same card, reissued with a new expiry: said as an update, not as one card replacing itself
    await alex.press("⭐ Mastercard •••• 4444")
    await alex.press("🔄 Replace")
    await alex.send(MASTERCARD)
    await alex.send("09/31")
    await alex.send("IVAN PETROV")
    await alex.send("123")
    assert alex.last_text.startswith("✅ Card updated: Mastercard •••• 4444, valid thru 09/31.")


async def test_back_from_the_first_step_of_replace_returns_to_the_card(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await add_card(alex, VISA)
    await alex.press("⭐ Visa •••• 4242")
    await alex.press("🔄 Replace")
    await alex.press("‹ Back")
    assert alex.last_text.startswith("<b>Visa •••• 4242</b>")
    assert await fsm(app, alex) == (None, {})
    await alex.press("‹ Back")
    assert "<b>💳 Bank cards</b>" in alex.last_text


# -- moving around in the flow ----------------------------------------------------------------
async def test_back_keep_edit_and_cancel(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await alex.press("➕ Add a card")
    await alex.send(VISA)
    await alex.press("‹ Back")
    assert "step 1 of 4" in alex.last_text
    await alex.press("Keep Visa •••• 4242")  # the number stays in the gateway's session
    assert "step 2 of 4" in alex.last_text
    await alex.send("12/29")
    await alex.send("IVAN PETROV")
    await alex.press("✏️ Expiry")
    assert "step 2 of 4" in alex.last_text and "Keep 12/29" in [t for t, _ in alex.buttons()]
    await alex.send("01/31")
    assert "step 4 of 4" in alex.last_text and "Valid thru: 01/31" in alex.last_text  # straight back
    await alex.press("✏️ Name")
    await alex.press("Keep IVAN PETROV")
    assert "step 4 of 4" in alex.last_text
    await alex.press("✏️ Number")
    await alex.press("‹ Back")  # from an edit, Back returns to the summary
    assert "step 4 of 4" in alex.last_text and "<b>Visa •••• 4242</b>" in alex.last_text
    await alex.press("✏️ Number")
    await alex.send(MASTERCARD)
    assert "step 4 of 4" in alex.last_text and "<b>Mastercard •••• 4444</b>" in alex.last_text
    await alex.press("‹ Back")
    assert "step 3 of 4" in alex.last_text
    await alex.press("‹ Back")
    await alex.press("‹ Back")
    assert "step 1 of 4" in alex.last_text
    await alex.press("✖ Cancel")
    assert alex.last_text.startswith("Cancelled. Nothing was saved.")
    assert await fsm(app, alex) == (None, {})
    assert await app.services.cards.wallet(alex.user.id) == []
    # the flow's buttons are stale now
    await alex.press_data(CardCb(action=CardAction.keep).pack())
    assert alex.alerts()[-1] == "This button is no longer active."
    await alex.press_data(CardCb(action=CardAction.offer).pack())
    assert alex.alerts()[-1] == "This button is no longer active."


async def test_cancel_command_mid_flow(app: App, masha: Player) -> None:
    await open_wallet(masha, "💳 Банковские карты")
    await masha.press("➕ Добавить карту")
    await masha.send(VISA)
    await masha.send("/cancel")
    assert masha.bot_messages[-2].text == "Отменено. Ничего не сохранено."
    await masha.send("12/29")  # no longer in the flow
    assert (await fsm(app, masha))[0] is None


async def test_session_that_expires_mid_flow(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await alex.press("➕ Add a card")
    await alex.send(VISA)
    await alex.send("12/29")
    await alex.send("IVAN PETROV")
    app.clock.advance(minutes=20)
    cvc = await alex.send("123")
    assert cvc.message_id in deleted_ids(app, alex)
    assert alex.last_text.startswith("For your safety the card number is kept only for a few minutes")
    assert "step 1 of 4" in alex.last_text
    state, data = await fsm(app, alex)
    assert state == "CardFlow:number" and data == {}


# -- security across users and restarts -------------------------------------------------------
async def test_forged_card_ids_across_two_users(app: App, alex: Player, masha: Player) -> None:
    await open_wallet(alex)
    await add_card(alex, VISA)
    await open_wallet(masha, "💳 Банковские карты")
    await add_card(masha, MIR, add="➕ Добавить карту")
    alex_card = (await app.services.cards.wallet(alex.user.id))[0].id
    masha_card = (await app.services.cards.wallet(masha.user.id))[0].id
    for action in (CardAction.open, CardAction.set_default, CardAction.delete, CardAction.delete_ok,
                   CardAction.replace):
        await masha.press_data(CardCb(action=action, id=alex_card).pack())
        assert masha.alerts()[-1] == "Эта карта больше недоступна."
        assert masha.last_text.startswith("Эта карта больше недоступна.")
        assert "4242" not in masha.last_text and "Мир •••• 0004" in masha.last_text
        await alex.press_data(CardCb(action=action, id=masha_card).pack())
        assert alex.alerts()[-1] == "This card is no longer available."
        assert "0004" not in alex.last_text
    await masha.press_data(CardCb(action=CardAction.open, id=999_999).pack())
    assert masha.alerts()[-1] == "Эта карта больше недоступна."
    assert [c.id for c in await app.services.cards.wallet(alex.user.id)] == [alex_card]
    assert [c.id for c in await app.services.cards.wallet(masha.user.id)] == [masha_card]
    assert (await fsm(app, masha))[0] is None  # a forged replace did not start a flow


async def test_restart_after_the_number_resumes_and_asks_for_the_number_again(app: App, alex: Player) -> None:
    await open_wallet(alex)
    await alex.press("➕ Add a card")
    await alex.send(VISA)
    await app.restart()  # a new process: the sandbox gateway's memory is gone
    state, data = await fsm(app, alex)
    assert state == "CardFlow:expiry"  # the flow resumes at its step…
    assert set(data) == {"sid", "brand", "last4"}
    assert "4242424242424242" not in repr(data) and "4242 4242" not in repr(data)  # …without the number
    await alex.send("12/29")
    assert alex.last_text.startswith(
        "For your safety the card number is kept only for a few minutes, and it is gone now. "
        "Please send the card number again."
    )
    assert "step 1 of 4" in alex.last_text
    assert await fsm(app, alex) == ("CardFlow:number", {})
    await alex.send(VISA)
    await alex.send("12/29")
    await alex.send("IVAN PETROV")
    await alex.send("123")
    assert alex.last_text.startswith("✅ Card added: Visa •••• 4242.")


async def test_restart_with_a_gateway_that_still_knows_the_session(app: App, alex: Player) -> None:
    """A real provider keeps its sessions across our restart: the flow just goes on."""
    await open_wallet(alex)
    await alex.press("➕ Add a card")
    await alex.send(VISA)
    await alex.send("12/29")
    old = gateway(app)
    await app.restart()
    app.services.cards.gateway = old
    await alex.send("IVAN PETROV")
    assert "step 4 of 4" in alex.last_text
    await alex.send("123")
    assert alex.last_text.startswith("✅ Card added: Visa •••• 4242.")


# -- the push ---------------------------------------------------------------------------------
def test_hold_released_push_in_both_languages(app: App) -> None:
    payload = {"hold_id": 1, "card_id": 3, "brand": "mir", "last4": "0004", "amount_minor": 100, "currency": "USD"}
    en = views.hold_released(payload, Fmt(app.services.i18n, "en"))
    ru = views.hold_released(payload, Fmt(app.services.i18n, "ru"))
    assert en.text == "💳 The $1.00 check of Mir •••• 0004 is over: the hold is released and the money is available again."
    assert ru.text == "💳 Проверка карты Мир •••• 0004 завершена: блокировка 1,00\xa0$ снята, деньги снова доступны."
    assert en.reply_markup is not None


async def test_too_many_card_checks(app: App, alex: Player) -> None:
    app.services.cards._checks[alex.user.id] = [app.clock.now()] * 10
    await open_wallet(alex)
    await add_card(alex, VISA)
    assert alex.last_text.startswith("Too many card checks in a short time.")
    assert "<b>💳 Bank cards</b>" in alex.last_text
    assert await fsm(app, alex) == (None, {})
    assert gateway(app)._sessions == {}


async def test_the_offline_console_sends_card_digits_as_text(template_db: Path, tmp_path: Path) -> None:
    """In the console a number presses the button with that number; a card number, an expiry
    or a CVC is sent as text."""
    import shutil
    from io import StringIO

    from bot.config import Settings
    from bot.console import Console, console_settings

    db = tmp_path / "console.sqlite3"
    shutil.copy(template_db, db)
    out = StringIO()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    console = Console(console_settings(settings, str(db)), locale="en", out=out, color=False)
    from bot import menu as registry
    from bot.handlers import sections

    sections()  # importing the sections registers their menu entries
    # the menu shows wide entries first, then the rest two a row: find the cards button's number
    entries = registry.entries()
    layout = [e.section for e in entries if e.wide] + [e.section for e in entries if not e.wide]
    cards_button = str(layout.index("cards") + 1)
    await console.run(iter([cards_button, "3", "2200000000000004", "0530", "IVAN PETROV", "123", "/quit"]))
    text = out.getvalue()
    assert "✅ Card added: Mir •••• 0004." in text
    assert text.count("(the bot deleted a message)") == 2
