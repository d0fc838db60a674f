"""Seller ↔ buyer conversations through the Dispatcher (issue 18): three users — a buyer, the
store's seller, another buyer — press and type as people do; every call the bot made is checked.

A round trip by the buttons and by native replies, an album relayed as an album, nothing of the
buyer's identity in anything the seller receives, card numbers and codes, block, a store without a
seller and then linked, a seller or another buyer opening someone else's conversation or order,
forged ids, the writing mode ending elsewhere; English and Russian."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.methods import SendMediaGroup, SendMessage, SendPhoto, SendVoice

from bot.fakebot import Player
from bot.services.orders import Status
from tests.conftest import App
from tests.orderkit import ensure_user, make_order
from tests.pushkit import sim_delivery

NOVA, ZETA = "Nova Electronics", "Zeta Home"
SELLER_ID, OTHER_BUYER_ID = 801, 702


async def link_seller(app: App, seller: Player, store: str = NOVA) -> int:
    await ensure_user(app.services, seller.user.id)
    store_id = await app.services.orders.ensure_store(store)
    invite = await app.services.sellers.invite(store_id)
    await app.services.sellers.redeem(invite.token, seller.user.id)
    return store_id


async def order_for(app: App, buyer: Player, store: str = NOVA) -> Any:
    await ensure_user(app.services, buyer.user.id, buyer.user.language_code or "en")
    return await make_order(app.services, app.clock, buyer.user.id, Status.shipped, store=store)


async def open_order(player: Player, order: Any) -> None:
    await player.press_data(f"o:o:{order.id}:a:0:")  # the order card, as from My orders


async def deliver(app: App) -> None:
    """One run of the delivery job: what is due now (the orders' own reminders wait for later)."""
    await sim_delivery(app)(app.clock.now())


def calls_to(app: App, chat_id: int) -> list[Any]:
    return [c for c in app.session.calls if getattr(c, "chat_id", None) == chat_id]


def seller_player(app: App) -> Player:
    return app.player(SELLER_ID, first_name="Sam", language_code="en", username="nova_sam")


async def writing_to_the_seller(app: App, buyer: Player) -> tuple[Player, Any]:
    """Nova's seller linked; the buyer's shipped order opened, "✉️ Message seller" pressed."""
    seller = seller_player(app)
    await seller.send("/start")
    await link_seller(app, seller)
    order = await order_for(app, buyer)
    await buyer.send("/start")
    await open_order(buyer, order)
    await buyer.press("✉️ Message seller")
    return seller, order


# -- the round trip -----------------------------------------------------------------------------------
async def test_a_round_trip_by_buttons_and_by_native_reply(app: App, alex: Player) -> None:
    seller, order = await writing_to_the_seller(app, alex)
    assert alex.last_text.startswith(f"<b>💬 Nova Electronics</b> · order #{order.number}")
    assert "Nothing written yet." in alex.last_text
    assert "The seller sees you as “Buyer #" in alex.last_text
    await alex.send("Hello! Is my parcel on its way?")
    assert alex.last_text == "✓ Sent to Nova Electronics.\nKeep typing to send more; ☰ Menu or /cancel to stop."
    assert [t for t, _ in alex.buttons()] == ["‹ Back", "☰ Menu"]
    await deliver(app)
    header = seller.last_text
    assert header.startswith("✉️ Buyer #") and header.endswith(
        f" about order #{order.number}\n\nHello! Is my parcel on its way?")
    alias = header.split("#", 1)[1].split(" ", 1)[0]
    assert seller.buttons() == [("↩️ Reply", seller.buttons()[0][1])]

    # the seller answers with the button
    await seller.press("↩️ Reply")
    assert seller.last_text.startswith(f"<b>💬 Buyer #{alias}</b> · order #{order.number} · Nova Electronics")
    assert "<b>Buyer</b> · " in seller.last_text and "Hello! Is my parcel on its way?" in seller.last_text
    await seller.send("Yes, it left yesterday.")
    assert seller.last_text.startswith(f"✓ Sent to Buyer #{alias}.")
    await deliver(app)
    assert alex.last_text == f"✉️ Nova Electronics about order #{order.number}\n\nYes, it left yesterday."
    relayed = alex.last

    # the buyer answers with a native reply, from outside the conversation
    await alex.send("/menu")
    await alex.send("Thank you!", reply_to=relayed)
    assert alex.last_text.startswith("✓ Sent to Nova Electronics.")
    await deliver(app)
    assert seller.last_text.endswith("\n\nThank you!")
    thanks = seller.last
    # … and the seller with a native reply to that
    await seller.send("/menu")
    await seller.send("You're welcome.", reply_to=thanks)
    await deliver(app)
    assert alex.last_text.endswith("\n\nYou're welcome.")

    # the history, both sides, from the lists
    await alex.send("/menu")
    await alex.press("🔔 Messages")
    await alex.press("💬 Conversations")
    assert alex.last_text == "<b>💬 Conversations</b>\n1 unread message"
    await alex.press(f"Nova Electronics · order #{order.number}")
    history = alex.last_text
    assert history.index("Hello! Is my parcel") < history.index("Yes, it left") < history.index("You're welcome.")
    await alex.press("‹ Back")
    assert alex.last_text == "<b>💬 Conversations</b>\nAll read."


async def test_the_seller_never_gets_the_buyer_identity(app: App) -> None:
    buyer = app.player(4242, first_name="Irina", language_code="en", username="irina_private")
    _seller, _order = await writing_to_the_seller(app, buyer)
    await buyer.send("Hi, it's about the size")
    await buyer.send_photo("photo-of-box", caption="the box")
    await buyer.send_file("voice", "voice-1")
    await buyer.send_file("document", "receipt-pdf", caption="receipt")
    await buyer.send_album(("photo", "a1"), ("photo", "a2"), ("photo", "a3"), caption="three sides")
    await app.dp["albums"].complete()
    notes = [m.text for m in buyer.bot_messages if (m.text or "").startswith("✓ Sent to Nova Electronics.")]
    assert len(notes) == 5  # one for each message, the album's three items as one
    await deliver(app)
    to_seller = calls_to(app, SELLER_ID)
    assert len(to_seller) >= 6
    for call in to_seller:
        dumped = repr(call)
        for secret in ("4242", "Irina", "irina_private"):
            assert secret not in dumped, (secret, type(call).__name__)
    kinds = [type(c) for c in to_seller if not isinstance(c, SendMessage) or "Buyer #" in c.text]
    assert SendPhoto in kinds and SendVoice in kinds and SendMediaGroup in kinds
    album = [c for c in to_seller if isinstance(c, SendMediaGroup)]
    assert [m.media for m in album[0].media] == ["a1", "a2", "a3"]  # an album, as an album
    photo = next(c for c in to_seller if isinstance(c, SendPhoto))
    assert photo.photo == "photo-of-box" and photo.caption.endswith("\n\nthe box")


# -- masking, block, limits -------------------------------------------------------------------------
async def test_codes_are_masked_and_card_numbers_never_leave(app: App, alex: Player) -> None:
    _seller, _order = await writing_to_the_seller(app, alex)
    await alex.send("my SMS code is 482913, please hurry")
    assert "A one-time code was hidden" in alex.last_text
    await alex.send("card 4111 1111 1111 1111 exp 12/30")
    assert "Nothing was sent." in alex.last_text and "a seller never needs it" in alex.last_text
    assert "asked below" not in alex.last_text  # no step below to answer: it is a conversation
    await deliver(app)
    texts = [getattr(c, "text", "") or "" for c in calls_to(app, SELLER_ID)]
    assert any("my SMS code is ••••••, please hurry" in t for t in texts)
    assert not any("4111" in t or "482913" in t for t in texts)


async def test_block_stops_delivery_and_tells_the_sender(app: App, alex: Player) -> None:
    seller, _order = await writing_to_the_seller(app, alex)
    await alex.send("spam spam")
    await deliver(app)
    await seller.press("↩️ Reply")
    await seller.press("🚫 Block")
    assert seller.alerts()[-1] == "Blocked: nothing is delivered in this conversation."
    assert "Your store has blocked this conversation" in seller.last_text
    await alex.send("more spam")
    assert alex.last_text == "Your message was not delivered: you have been blocked in this conversation."
    await seller.send("a word back")
    assert seller.last_text == "This conversation is blocked on your side. Unblock it to write."
    await seller.press("✅ Unblock")
    await alex.send("sorry")
    assert alex.last_text.startswith("✓ Sent to Nova Electronics.")


async def test_a_store_without_a_seller_keeps_the_message_until_one_joins(app: App, alex: Player) -> None:
    order = await order_for(app, alex)
    await alex.send("/start")
    await open_order(alex, order)
    await alex.press("✉️ Message seller")
    await alex.send("Anyone there?")
    assert alex.last_text.startswith("✓ Saved. Nova Electronics has no seller in Kabinet yet")
    seller = seller_player(app)
    await seller.send("/start")
    await deliver(app)
    assert "Anyone there?" not in seller.last_text
    invite = await app.services.sellers.invite(order.store_id)  # the operator's `seller invite`
    await seller.send(f"/start s_{invite.token}")  # the seller opens the link
    assert seller.last_text.startswith("✅ You are now a seller of <b>Nova Electronics</b>.\n1 message buyers wrote "
                                       "while the store had no seller is on its way to you.")
    await deliver(app)
    assert seller.last_text.endswith("\n\nAnyone there?")
    await seller.send(f"/start s_{invite.token}")  # their own link again: nothing changes, nothing re-sent
    assert any("You are a seller of <b>Nova Electronics</b> already." in (m.text or "")
               for m in seller.bot_messages[-2:])
    await deliver(app)
    assert sum("Anyone there?" in (m.text or "") for m in seller.bot_messages) == 1


# -- someone else's ---------------------------------------------------------------------------------
async def test_nobody_opens_another_ones_conversation_or_order(app: App, alex: Player) -> None:
    seller = seller_player(app)
    other_seller = app.player(802, first_name="Zed", language_code="en")
    other_buyer = app.player(OTHER_BUYER_ID, first_name="Olga", language_code="en")
    for p in (seller, other_seller, other_buyer, alex):
        await p.send("/start")
    await link_seller(app, seller)
    await link_seller(app, other_seller, ZETA)
    order = await order_for(app, alex)
    await open_order(alex, order)
    await alex.press("✉️ Message seller")
    await alex.send("private question")
    await deliver(app)
    conversation_id = int(seller.buttons()[0][1].split(":")[2])
    for player, data in ((other_buyer, f"rl:o:{conversation_id}:0:b"), (other_seller, f"rl:o:{conversation_id}:0:s"),
                         (other_seller, f"rl:o:{conversation_id}:0:b"), (other_buyer, f"rl:m:{order.id}:0:b"),
                         (seller, f"rl:m:{order.id}:0:b"), (other_buyer, "rl:o:99999:0:b")):
        before = len(player.bot_messages)
        await player.press_data(data)
        assert player.alerts()[-1] in ("This conversation is no longer available.", "This order is no longer available.")
        assert len(player.bot_messages) == before
        await player.send("typed after a refused button")
        assert "private question" not in player.last_text
    texts = " ".join(getattr(c, "text", "") or "" for p in (other_buyer, other_seller) for c in calls_to(app, p.user.id))
    assert "private question" not in texts and "Buyer #" not in texts


async def test_a_reply_to_a_message_that_is_not_relayed_gets_a_hint(app: App, alex: Player) -> None:
    await alex.send("/start")
    menu = alex.last
    await alex.send("hello?", reply_to=menu)
    assert alex.last_text == "That message is not from a conversation. Open Conversations to answer someone."


async def test_another_button_ends_the_writing_mode(app: App, alex: Player) -> None:
    _seller, order = await writing_to_the_seller(app, alex)
    await open_order(alex, order)  # back to the order: the conversation is left
    await alex.send("where is the cable")
    assert not alex.last_text.startswith("✓ Sent")
    await deliver(app)
    assert not any("where is the cable" in (getattr(c, "text", "") or "") for c in calls_to(app, SELLER_ID))


# -- Russian --------------------------------------------------------------------------------------------
async def test_the_conversation_in_russian(app: App, masha: Player) -> None:
    seller = app.player(SELLER_ID, first_name="Сэм", language_code="ru")
    await seller.send("/start")
    await link_seller(app, seller)
    order = await order_for(app, masha)
    await masha.send("/start")
    await open_order(masha, order)
    await masha.press("✉️ Написать продавцу")
    assert masha.last_text.startswith(f"<b>💬 Nova Electronics</b> · заказ № {order.number}")
    await masha.send("Здравствуйте!")
    assert masha.last_text.startswith("✓ Отправлено: Nova Electronics.")
    await deliver(app)
    assert seller.last_text.startswith("✉️ Покупатель #")
    assert seller.last_text.endswith(f"о заказе № {order.number}\n\nЗдравствуйте!")
    await seller.press("↩️ Ответить")
    await seller.send("Добрый день.")
    await deliver(app)
    assert masha.last_text == f"✉️ Nova Electronics о заказе № {order.number}\n\nДобрый день."


@pytest.mark.parametrize("lang", ["en"])
async def test_the_message_centre_shows_conversations_with_unread(app: App, alex: Player, lang: str) -> None:
    seller, _order = await writing_to_the_seller(app, alex)
    await alex.send("hi")
    await deliver(app)
    await seller.press("↩️ Reply")
    await seller.send("hello")
    await seller.send("how can I help?")
    await deliver(app)
    await alex.send("/menu")
    await alex.press("🔔 Messages")
    assert ("💬 Conversations · 🔵 2", "rl:l:0:0:b") in alex.buttons()


# -- wrong input, limits, leaving -----------------------------------------------------------------
async def test_wrong_input_is_explained_and_the_mode_stays_until_cancel(app: App, alex: Player) -> None:
    _seller, _order = await writing_to_the_seller(app, alex)
    await alex.send("x" * 3501)
    assert alex.last_text == "A message can be at most 3500 characters long; yours has 3501."
    await alex.send_sticker()
    assert alex.last_text == "Send text, a photo, a document or a voice message."
    await alex.send("still here?")  # the mode stayed
    assert alex.last_text.startswith("✓ Sent to Nova Electronics.")
    for n in range(19):
        await alex.send(f"message {n}")
    await alex.send("one too many")
    assert alex.last_text == "Too many messages in a minute. Please wait a little and send again."
    app.clock.advance(minutes=1)
    await alex.send("after a minute")
    assert alex.last_text.startswith("✓ Sent to Nova Electronics.")
    await alex.send("/cancel")  # what was sent stays sent: never "nothing was saved"
    assert "You left the conversation; the messages you sent stay sent." in [m.text for m in alex.bot_messages[-2:]]
    await alex.send("not for the seller")
    assert not alex.last_text.startswith("✓ Sent")
    await deliver(app)
    texts = [getattr(c, "text", "") or "" for c in calls_to(app, SELLER_ID)]
    assert any(t.endswith("after a minute") for t in texts)
    assert not any("not for the seller" in t or "one too many" in t or "x" * 3501 in t for t in texts)


async def test_the_sellers_conversations_by_last_activity(app: App) -> None:
    seller = seller_player(app)
    buyers = [app.player(900 + n, first_name=f"B{n}", language_code="en") for n in range(3)]
    await seller.send("/start")
    await link_seller(app, seller)
    orders = []
    for buyer in buyers:
        order = await order_for(app, buyer)
        orders.append(order)
        await buyer.send("/start")
        await open_order(buyer, order)
        await buyer.press("✉️ Message seller")
        await buyer.send(f"question from {buyer.user.first_name}")
        app.clock.advance(minutes=1)
    await seller.press_data("sl:c:0:0")  # seller mode's Conversations
    assert seller.last_text == "<b>💬 Conversations with buyers</b>\n3 unread messages"
    labels = [t for t, _ in seller.buttons()]
    assert [label.split(" · order #")[1] for label in labels[:3]] == [o.number for o in reversed(orders)]
    assert all(label.startswith("🔵 1 · Buyer #") for label in labels[:3])
    assert labels[3:] == ["‹ Back", "☰ Menu"]
    await seller.press(labels[0])
    assert "question from B2" in seller.last_text and "question from B0" not in seller.last_text
    await seller.press("‹ Back")
    assert seller.last_text == "<b>💬 Conversations with buyers</b>\n2 unread messages"


async def test_a_buyer_pressing_the_sellers_conversations_is_not_a_seller(app: App, alex: Player) -> None:
    await alex.send("/start")
    await alex.press_data("sl:c:0:0")
    assert alex.alerts()[-1] == "You are not a seller of any store."
    assert "Conversations with buyers" not in alex.last_text


async def test_a_question_to_a_store_before_any_order(app: App, alex: Player) -> None:
    seller = seller_player(app)
    await seller.send("/start")
    store_id = await link_seller(app, seller)
    product = await app.services.catalog.upsert(store_id, "Wireless earbuds", price_minor=2999, currency="USD")
    await alex.send(f"/start p{product}")
    await alex.press("✉️ Message seller")
    assert alex.last_text.startswith("<b>💬 Nova Electronics</b>\n")
    await alex.send("Do these come in pink?")
    assert alex.last_text.startswith("✓ Sent to Nova Electronics.")
    await deliver(app)
    assert seller.last_text.startswith("✉️ Buyer #") and seller.last_text.endswith(
        ", a question to Nova Electronics\n\nDo these come in pink?")
    await seller.press("↩️ Reply")
    await seller.send("Not yet, sorry.")
    await deliver(app)
    assert alex.last_text == "✉️ Nova Electronics\n\nNot yet, sorry."
    await alex.send("/menu")
    await alex.press("🛍 Shopping")
    await alex.press("🏬 Favourite stores")
    await alex.send(f"/start p{product}")
    await alex.press("🏬 Store")
    await alex.press("✉️ Message seller")  # the same conversation from the store's page
    assert "Do these come in pink?" in alex.last_text and "Not yet, sorry." in alex.last_text
    await seller.press_data(f"rl:s:{store_id}:0:b")  # their own store
    assert seller.alerts()[-1] == "This is your own store."


async def test_a_sellers_answer_is_copied_to_the_stores_other_sellers(app: App, alex: Player) -> None:
    seller, order = await writing_to_the_seller(app, alex)
    colleague = app.player(SELLER_ID + 1, first_name="Kim", language_code="ru")
    await colleague.send("/start")
    await link_seller(app, colleague)
    await alex.send("Is it the black one?")
    await deliver(app)
    assert seller.last_text.endswith("\n\nIs it the black one?")
    assert colleague.last_text.endswith("\n\nIs it the black one?")
    alias = seller.last_text.split("#", 1)[1].split(" ", 1)[0]

    await seller.send("Yes, black.", reply_to=seller.last)
    await deliver(app)
    assert alex.last_text == f"✉️ Nova Electronics about order #{order.number}\n\nYes, black."
    # the other seller sees that the store answered, and what (in their language); the one who wrote it does not
    assert colleague.last_text == f"↪️ Магазин Nova Electronics ответил покупателю #{alias} о заказе № {order.number}\n\nYes, black."
    assert colleague.buttons() == [("↩️ Ответить", colleague.buttons()[0][1])]
    assert not seller.last_text.endswith("\n\nYes, black.")
    buyer_calls = len(calls_to(app, alex.user.id))

    # a native reply to the copy goes to the buyer, as the store's
    await colleague.send("It ships tomorrow.", reply_to=colleague.last)
    await deliver(app)
    assert alex.last_text == f"✉️ Nova Electronics about order #{order.number}\n\nIt ships tomorrow."
    assert len(calls_to(app, alex.user.id)) > buyer_calls
    assert seller.last_text == f"↪️ Nova Electronics answered Buyer #{alias} about order #{order.number}\n\nIt ships tomorrow."
    # in the history, "You" is what the viewer wrote; a colleague's answer is the store's
    await seller.press("↩️ Reply")
    history = seller.last_text
    assert "<b>You</b> · " in history and "<b>Nova Electronics</b> · " in history
    assert history.index("<b>You</b>") < history.index("Yes, black.") < history.index("<b>Nova Electronics</b>")
