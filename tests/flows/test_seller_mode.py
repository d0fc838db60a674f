"""Seller mode through the real Dispatcher (issue 18): two stores, a seller of store A, a buyer, a
seller of store B. Becoming a seller by the invitation's deep link (ok, used, expired, unknown), the
menu entry only sellers see, answering a review (the buyer sees the reply), answering disputes
(accept, reject with a reason, a partial refund) and shipping an order (the buyer's order shows it
and the buyer gets the push); a seller of another store gets nothing of store A; /cancel and
Cancel leave each step. Both locales."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import DeleteMyCommands, SetMyCommands
from aiogram.types import BotCommandScopeChat

from bot.fakebot import Player
from bot.services.orders import Status
from tests.conftest import App
from tests.orderkit import make_order
from tests.pushkit import sim_delivery
from tests.services.test_disputes import draft

A, B = "Nova Electronics", "Blue Shoes"
NBSP = "\u00a0"

# what each locale says (the buyer's and the sellers' language is the test's `lang`)
T = {
    "en": {
        "seller_mode": "🏪 Seller mode", "now_seller": "✅ You are now a seller of <b>{store}</b>.",
        "already": "✅ You are a seller of <b>{store}</b> already.",
        "not_seller": "You are not a seller of any store.", "reviews": "⭐ Reviews to answer",
        "disputes": "↩️ Disputes", "orders": "📦 Orders to ship", "answer": "✍️ Answer",
        "gone": "This item is no longer available.", "cancel": "✖ Cancel", "used":
        "This seller invitation has already been used. Ask for a new link.",
        "expired": "This seller invitation has expired. Ask for a new link.",
        "unknown": "This seller invitation is not valid. Ask for a new link.",
        "reply_sent": "Your reply is published under the review.", "buyer_reply": "💬 <b>The seller's reply</b>",
        "accept": "✅ Accept: refund", "yes_accept": "✅ Yes, accept", "reject": "✖️ Reject with a reason",
        "offer": "💸 Offer a partial refund", "accepted": "Accepted: the buyer is refunded.",
        "answer_sent": "Your answer is sent to the buyer.", "offer_sent": "Your offer is sent to the buyer.",
        "reason_short": "Please give the buyer a reason of at least 5 characters.",
        "offer_big": "A partial refund must be less than what accepting the dispute would refund",
        "not_number": "Please type an amount as a number", "mark_shipped": "🚚 Mark shipped",
        "bad_track": "A track number is 5–40 Latin letters, digits or dashes", "shipped": "Marked shipped: the buyer is told.",
        "buyer_shipped": "🚚 Shipped", "cancelled": "Cancelled. Nothing was saved.",
        "my_reviews": "⭐ Reviews", "my_reviews_list": "🗂 My reviews", "orders_label": "📦 My orders",
        "rejected_state": "you rejected it; the buyer's turn", "menu": "☰ Menu", "conversations": "💬 Conversations",
        "buyer_word": "Buyer", "step_1": "step 1 of 2", "expected_carrier": "Please choose the carrier with a button.",
        "nothing": "Nothing is waiting for you right now.", "russian_post": "Russian Post",
    },
    "ru": {
        "seller_mode": "🏪 Режим продавца", "now_seller": "✅ Теперь вы продавец магазина <b>{store}</b>.",
        "already": "✅ Вы уже продавец магазина <b>{store}</b>.",
        "not_seller": "Вы не продавец ни одного магазина.", "reviews": "⭐ Отзывы без ответа",
        "disputes": "↩️ Споры", "orders": "📦 Заказы к отправке", "answer": "✍️ Ответить",
        "gone": "Это больше недоступно.", "cancel": "✖ Отмена",
        "used": "Это приглашение продавца уже использовано. Попросите новую ссылку.",
        "expired": "Срок этого приглашения продавца истёк. Попросите новую ссылку.",
        "unknown": "Это приглашение продавца недействительно. Попросите новую ссылку.",
        "reply_sent": "Ваш ответ опубликован под отзывом.", "buyer_reply": "💬 <b>Ответ продавца</b>",
        "accept": "✅ Принять: вернуть", "yes_accept": "✅ Да, принять", "reject": "✖️ Отказать с причиной",
        "offer": "💸 Предложить частичный возврат", "accepted": "Принято: покупателю вернут деньги.",
        "answer_sent": "Ваш ответ отправлен покупателю.", "offer_sent": "Ваше предложение отправлено покупателю.",
        "reason_short": "Напишите покупателю причину — не короче 5 символов.",
        "offer_big": "Частичный возврат должен быть меньше суммы, которую вернёт принятие спора",
        "not_number": "Введите сумму числом", "mark_shipped": "🚚 Отметить отправку",
        "bad_track": "Трек-номер — это от 5 до 40 латинских букв, цифр или дефисов",
        "shipped": "Отправка отмечена, покупатель узнает об этом.",
        "buyer_shipped": "🚚 Отправлен", "cancelled": "Отменено. Ничего не сохранено.",
        "my_reviews": "⭐ Управление отзывами", "my_reviews_list": "🗂 Мои отзывы", "orders_label": "📦 Мои заказы",
        "rejected_state": "вы отказали, ход покупателя", "menu": "☰ Меню", "conversations": "💬 Переписка",
        "buyer_word": "Покупатель", "step_1": "шаг 1 из 2", "expected_carrier": "Выберите перевозчика кнопкой.",
        "nothing": "Сейчас вас ничего не ждёт.", "russian_post": "Почта России",
    },
}


@pytest.fixture
def t(lang: str) -> dict[str, str]:
    return T[lang]


@pytest.fixture
def buyer(user: Player) -> Player:
    return user


async def invite(app: App, store: str) -> str:
    store_id = await app.services.orders.ensure_store(store)
    return (await app.services.sellers.invite(store_id)).token


async def become_seller(app: App, player: Player, store: str) -> None:
    await player.send(f"/start s_{await invite(app, store)}")


async def deliver_due(app: App) -> None:
    """The pushes due now (a reminder planned days ahead stays pending)."""
    delivery = sim_delivery(app)
    for _ in range(10):
        await delivery(app.clock.now())
        app.clock.advance(seconds=2)


def labels(player: Player) -> list[str]:
    return [text for text, _ in player.buttons()]


async def reviewed(app: App, buyer: Player, store: str, text: str) -> int:
    order = await make_order(app.services, app.clock, buyer.user.id, Status.completed, store=store)
    targets = (await app.services.reviews.order_targets(buyer.user.id, order.id)).targets
    published = await app.services.reviews.publish(buyer.user.id, targets[0].item.item_id, rating=2, text=text)
    return published.card.review.id


# -- becoming a seller and the menu ---------------------------------------------------------------------
async def test_the_invitation_makes_a_seller_once_and_the_menu_shows_the_entry(
        app: App, buyer: Player, seller_a: Player, t: dict[str, str]) -> None:
    await buyer.send("/start")
    assert t["seller_mode"] not in labels(buyer)  # a buyer doesn't see seller mode
    await buyer.send("/seller")
    assert buyer.bot_messages[-2].text == t["not_seller"] and t["seller_mode"] not in labels(buyer)
    await seller_a.send("/start")
    assert t["seller_mode"] not in labels(seller_a)
    token = await invite(app, A)
    await seller_a.send(f"/start s_{token}")
    assert seller_a.last_text.startswith(t["now_seller"].format(store=A))
    assert t["nothing"] in seller_a.last_text
    assert labels(seller_a) == [t["conversations"], t["reviews"], t["disputes"], t["orders"], t["menu"]]
    # used: by another account refused; by the same one, it says so
    await buyer.send(f"/start s_{token}")
    assert buyer.bot_messages[-2].text == t["used"]
    await seller_a.send(f"/start s_{token}")
    assert seller_a.last_text.startswith(t["already"].format(store=A))
    assert t["seller_mode"] not in labels(buyer)
    await seller_a.send("/menu")
    assert t["seller_mode"] in labels(seller_a)  # a seller does
    await seller_a.press(t["seller_mode"])
    assert t["reviews"] in labels(seller_a)
    await seller_a.press(t["conversations"])  # the relay's list for the seller, and back
    assert "sl:m:0:0" in [data for _, data in seller_a.buttons()]
    await seller_a.press_data("sl:m:0:0")
    assert t["reviews"] in labels(seller_a)
    # expired (the injected clock), unknown
    late = await invite(app, B)
    app.clock.advance(hours=24)
    await buyer.send(f"/start s_{late}")
    assert buyer.bot_messages[-2].text == t["expired"]
    await buyer.send("/start s_nonsense")
    assert buyer.bot_messages[-2].text == t["unknown"]
    assert t["seller_mode"] not in labels(buyer)
    # a forged seller-mode button from a buyer: polite, and the main menu
    for data in ("sl:m:0:0", "sl:r:0:0", "sl:oo:1:0", "sl:os:1:0", "sl:dy:1:0", "mn:seller"):
        await buyer.press_data(data)
        assert buyer.alerts()[-1] == t["not_seller"]
        assert t["seller_mode"] not in labels(buyer)


async def test_messages_waiting_for_a_new_seller_are_counted(app: App, buyer: Player, seller_a: Player, lang: str) -> None:
    await buyer.send("/start")
    order = await make_order(app.services, app.clock, buyer.user.id, Status.shipped, store=A)
    from bot.services.relay.conversations import Kind, Outgoing

    conversation = await app.services.relay.open_for_order(buyer.user.id, order.id)
    await app.services.relay.send(buyer.user.id, conversation.id, Outgoing(Kind.text, buyer.user.id, (1,), "Where is it?"))
    await become_seller(app, seller_a, A)
    expected = {"en": "1 message buyers wrote while the store had no seller is on its way to you.",
                "ru": "1 сообщение, написанное покупателями, пока у магазина не было продавца, уже идёт к вам."}[lang]
    assert expected in seller_a.last_text


# -- reviews ------------------------------------------------------------------------------------------------
async def test_answering_a_review_shows_under_the_buyers_review(
        app: App, buyer: Player, seller_a: Player, seller_b: Player, t: dict[str, str]) -> None:
    await buyer.send("/start")
    own = await reviewed(app, buyer, A, "The case <b>scratches</b> easily.")
    other = await reviewed(app, buyer, B, "Shoes are fine.")
    await become_seller(app, seller_a, A)
    await become_seller(app, seller_b, B)
    await seller_a.press(t["reviews"] + " · 1")
    assert "The case &lt;b&gt;scratches&lt;/b&gt; easily." in seller_a.last_text
    await seller_a.press("1")
    screen = seller_a.last_text
    assert t["buyer_word"] in screen and "★★☆☆☆" in screen
    assert buyer.user.first_name not in screen and str(buyer.user.id) not in screen
    await seller_a.press(t["answer"])
    await seller_a.send("/cancel")  # /cancel leaves the step
    assert t["cancelled"] in seller_a.bot_messages[-2].text
    await seller_a.send("/seller")
    await seller_a.press(t["reviews"] + " · 1")
    await seller_a.press("1")
    await seller_a.press(t["answer"])
    await seller_a.press(t["cancel"])  # Cancel returns to the review
    assert t["answer"] in labels(seller_a)
    await seller_a.press(t["answer"])
    await seller_a.send_sticker()  # not a text: asked again
    assert seller_a.last_text.startswith({"✍️ Answer": "Please type your reply", "✍️ Ответить": "Напишите ответ"}[
        t["answer"]])
    await seller_a.send("x" * 2001)  # a reply, not a review, too long: said so, asked again
    assert seller_a.last_text.startswith({"✍️ Answer": "A reply can be at most 2000 characters long; yours has 2001.",
                                          "✍️ Ответить": "Ответ может быть не длиннее 2000 символов, а в вашем 2001."}[
        t["answer"]])
    await seller_a.send("Sorry! A new case is on its way <3")
    assert seller_a.last_text.startswith(t["reply_sent"])
    assert "A new case is on its way &lt;3" in seller_a.last_text and t["answer"] not in labels(seller_a)
    # the buyer sees the reply under the review
    await buyer.send("/menu")
    await buyer.press(t["my_reviews"])
    await buyer.press(t["my_reviews_list"])
    await buyer.press("2.")  # the newest first: store B's review, then store A's
    assert "scratches" in buyer.last_text
    assert t["buyer_reply"] in buyer.last_text and "A new case is on its way &lt;3" in buyer.last_text
    # seller B pressing store A's review (and A's answer button) gets nothing of it
    for data in (f"sl:ro:{own}:0", f"sl:ra:{own}:0"):
        await seller_b.press_data(data)
        assert seller_b.alerts()[-1] == t["gone"]
        assert "scratches" not in seller_b.last_text and "Shoes are fine." in seller_b.last_text
    assert other


# -- disputes -----------------------------------------------------------------------------------------------
async def test_disputes_accept_reject_and_a_partial_refund(
        app: App, buyer: Player, seller_a: Player, seller_b: Player, t: dict[str, str], lang: str) -> None:
    await buyer.send("/start")
    orders = [await make_order(app.services, app.clock, buyer.user.id, Status.shipped, store=A) for _ in range(3)]
    ids = [(await app.services.disputes.open(buyer.user.id, o.id, draft())).id for o in orders]  # due together
    await become_seller(app, seller_a, A)
    await become_seller(app, seller_b, B)
    await deliver_due(app)
    before = len(buyer.bot_messages)
    await seller_a.press(t["disputes"] + " · 3")
    await seller_a.press("1")
    screen = seller_a.last_text
    assert orders[0].number in screen and t["buyer_word"] in screen
    assert buyer.user.first_name not in screen and str(buyer.user.id) not in screen
    # seller B: nothing of store A's disputes
    for data in (f"sl:do:{ids[0]}:0", f"sl:da:{ids[0]}:0", f"sl:dy:{ids[0]}:0", f"sl:dr:{ids[0]}:0"):
        await seller_b.press_data(data)
        assert seller_b.alerts()[-1] == t["gone"] and orders[0].number not in seller_b.last_text
    # reject with a reason (too short: asked again)
    await seller_a.press(t["reject"])
    await seller_a.send("no")
    assert seller_a.last_text.startswith(t["reason_short"])
    await seller_a.send("The colour matches the photos.")
    assert seller_a.last_text.startswith(t["answer_sent"]) and t["rejected_state"] in seller_a.last_text
    # a partial refund: a bad amount asked again, the step kept
    await seller_a.send("/seller")
    await seller_a.press(t["disputes"] + " · 2")
    await seller_a.press("1")
    await seller_a.press(t["offer"])
    await seller_a.send("lots")
    assert seller_a.last_text.startswith(t["not_number"])
    await seller_a.send("37.99")  # all that was asked: that is accepting
    assert seller_a.last_text.startswith(t["offer_big"])
    await seller_a.send("/cancel")
    await seller_a.send("/seller")
    await seller_a.press(t["disputes"] + " · 2")
    await seller_a.press("1")
    await seller_a.press(t["offer"])
    await seller_a.send("12.5")
    assert seller_a.last_text.startswith(t["offer_sent"])
    assert {"en": "you offered $12.50", "ru": f"вы предложили 12,50{NBSP}$"}[lang] in seller_a.last_text
    # accept (confirmed)
    await seller_a.send("/seller")
    await seller_a.press(t["disputes"] + " · 1")
    await seller_a.press("1")
    await seller_a.press(t["accept"])
    await seller_a.press(t["yes_accept"])
    assert seller_a.alerts()[-1] == t["accepted"]
    await seller_a.press_data(f"sl:dy:{ids[2]}:0")  # a double tap: the dispute moved on
    assert seller_a.alerts()[-1] != t["accepted"]
    # the buyer's pushes
    await deliver_due(app)
    pushes = "\n".join(m.text or "" for m in buyer.bot_messages[before:])
    assert all(o.number in pushes for o in orders)
    assert {"en": "$12.50", "ru": f"12,50{NBSP}$"}[lang] in pushes
    # the reason reaches the buyer's dispute card
    card = await app.services.disputes.card(buyer.user.id, ids[0])
    assert card.dispute.seller_note == "The colour matches the photos."


# -- orders to ship -----------------------------------------------------------------------------------------
async def test_marking_an_order_shipped(app: App, buyer: Player, seller_a: Player, seller_b: Player,
                                        t: dict[str, str], lang: str) -> None:
    await buyer.send("/start")
    order = await make_order(app.services, app.clock, buyer.user.id, Status.awaiting_shipment, store=A)
    await become_seller(app, seller_a, A)
    await become_seller(app, seller_b, B)
    await deliver_due(app)
    before = len(buyer.bot_messages)
    await seller_a.press(t["orders"] + " · 1")
    await seller_a.press("1")
    screen = seller_a.last_text
    assert "Alex Doe" in screen and "+1 555 0100" in screen and "1 Main St" in screen  # the parcel's address
    assert "USB-C cable 1 m × 2" in screen
    assert buyer.user.first_name not in screen.replace("Alex Doe", "") and str(buyer.user.id) not in screen
    for data in (f"sl:oo:{order.id}:0", f"sl:os:{order.id}:0", "sl:oo:999999:0"):
        await seller_b.press_data(data)
        assert seller_b.alerts()[-1] == t["gone"] and order.number not in seller_b.last_text
    await seller_a.press(t["mark_shipped"])
    assert t["step_1"] in seller_a.last_text
    await seller_a.send("LP1")
    assert seller_a.last_text.startswith(t["bad_track"])
    await seller_a.send("/cancel")
    assert t["cancelled"] in seller_a.bot_messages[-2].text
    await seller_a.send("/seller")
    await seller_a.press(t["orders"] + " · 1")
    await seller_a.press("1")
    await seller_a.press(t["mark_shipped"])
    await seller_a.send("lp 123456789 cn")
    assert "LP123456789CN" in seller_a.last_text and "DHL" in labels(seller_a)
    assert t["russian_post"] in labels(seller_a)  # the carriers named in the seller's language
    await seller_a.send("anything")  # text where a carrier button is expected
    assert seller_a.last_text.startswith(t["expected_carrier"])
    await seller_a.press("DHL")
    assert seller_a.last_text.startswith(t["shipped"]) and t["mark_shipped"] not in labels(seller_a)
    shipped = await app.services.orders.by_number(order.number)
    assert (shipped.status, shipped.track_number, shipped.carrier) == ("shipped", "LP123456789CN", "dhl")
    await seller_a.press_data(f"sl:os:{order.id}:0")  # again: no longer to ship
    assert seller_a.alerts()[-1] != t["gone"] and "LP123456789CN" in seller_a.last_text
    # the buyer: the push, and the order shows it shipped
    await deliver_due(app)
    assert any("LP123456789CN" in (m.text or "") for m in buyer.bot_messages[before:])
    await buyer.send("/menu")
    await buyer.press(t["orders_label"])
    assert t["buyer_shipped"] in buyer.last_text or t["buyer_shipped"] in " ".join(labels(buyer))


async def test_an_unlinked_seller_is_told_and_the_entry_goes(app: App, seller_a: Player, t: dict[str, str]) -> None:
    await become_seller(app, seller_a, A)
    await seller_a.send("/menu")
    assert t["seller_mode"] in labels(seller_a)
    store_id = await app.services.orders.ensure_store(A)
    await app.services.sellers.remove_seller(store_id, seller_a.user.id)
    await seller_a.press(t["seller_mode"])
    assert seller_a.alerts()[-1] == t["not_seller"] and t["seller_mode"] not in labels(seller_a)


async def test_restart_in_the_middle_of_shipping_resumes(app: App, seller_a: Player, t: dict[str, str]) -> None:
    buyer_id = 4004
    from tests.orderkit import ensure_user

    await ensure_user(app.services, buyer_id)
    order = await make_order(app.services, app.clock, buyer_id, Status.awaiting_shipment, store=A)
    await become_seller(app, seller_a, A)
    await seller_a.press_data(f"sl:os:{order.id}:0")
    await seller_a.send("LP987654321CN")
    await app.restart()
    app.clock.advance(timedelta(minutes=5))
    await seller_a.press("EMS")
    assert seller_a.last_text.startswith(t["shipped"])
    assert re.search(r"EMS · <code>LP987654321CN</code>", seller_a.last_text)


async def test_double_taps_change_once(app: App, seller_a: Player, t: dict[str, str]) -> None:
    """A double tap on "Yes, accept" and on a carrier, delivered as polling does (one batch):
    one refund, one shipment."""
    from bot.db import refunds as refunds_repo
    from tests.orderkit import ensure_user

    buyer_id = 4005
    await ensure_user(app.services, buyer_id)
    disputed = await make_order(app.services, app.clock, buyer_id, Status.in_dispute, store=A)
    to_ship = await make_order(app.services, app.clock, buyer_id, Status.awaiting_shipment, store=A)
    dispute_id = (await app.services.disputes.for_order_number(disputed.number)).id
    await become_seller(app, seller_a, A)
    await seller_a.press_data(f"sl:da:{dispute_id}:0")
    async with seller_a.together():
        await seller_a.press(t["yes_accept"])
        await seller_a.press(t["yes_accept"])
    async with app.services.db.read() as conn:
        assert len(await refunds_repo.for_order(conn, disputed.id)) == 1
    assert seller_a.alerts().count(t["accepted"]) == 1
    await seller_a.press_data(f"sl:os:{to_ship.id}:0")
    await seller_a.send("LP555666777CN")
    async with seller_a.together():
        await seller_a.press("DHL")
        await seller_a.press("EMS")
    shipped = await app.services.orders.by_number(to_ship.number)
    assert shipped.status == "shipped" and shipped.carrier in ("dhl", "ems")
    assert seller_a.last_text.count(t["shipped"]) <= 1


async def test_a_large_order_and_long_texts_fit_the_screens(app: App, seller_a: Player, lang: str) -> None:
    """The fake session refuses what Telegram would: the screens cut and cap what a shop or a buyer wrote."""
    from bot.services.orders import NewItem
    from tests.orderkit import ensure_user

    buyer_id = 4006
    await ensure_user(app.services, buyer_id)
    items = [NewItem(f"{n} " + "Очень длинное название товара " * 9, 3, 1999,
                     (("Цвет", "тёмно-синий " * 10), ("Размер", "XXL " * 20))) for n in range(25)]
    order = await make_order(app.services, app.clock, buyer_id, Status.awaiting_shipment, store=A, items=items)
    await become_seller(app, seller_a, A)
    await seller_a.press_data(f"sl:oo:{order.id}:0")
    more = {"en": "…and 15 more items", "ru": "…и ещё 15 товаров"}[lang]
    assert more in seller_a.last_text


# -- the command menu ---------------------------------------------------------------------------------
SELLER_DESCRIPTION = {"en": "Seller mode: your store's orders and buyers",
                      "ru": "Режим продавца: заказы и покупатели вашего магазина"}


def chat_menu_calls(app: App, kind: type, chat_id: int) -> list[Any]:
    return [c for c in app.session.calls_of(kind)
            if isinstance(c.scope, BotCommandScopeChat) and c.scope.chat_id == chat_id]


async def test_a_sellers_chat_lists_seller_in_its_command_menu_until_they_sell_no_more(
        app: App, seller_a: Player, lang: str) -> None:
    await seller_a.send("/start")
    assert chat_menu_calls(app, SetMyCommands, seller_a.user.id) == []  # a buyer has the default list
    await become_seller(app, seller_a, A)
    lists = chat_menu_calls(app, SetMyCommands, seller_a.user.id)
    assert [c.language_code for c in lists] == ["en", "ru", None]  # by the app's language, else the seller's
    for listed in lists:
        assert [c.command for c in listed.commands] == ["start", "menu", "help", "settings", "cancel", "privacy",
                                                              "seller"]
    assert [c.commands[-1].description for c in lists] == [SELLER_DESCRIPTION["en"], SELLER_DESCRIPTION["ru"],
                                                           SELLER_DESCRIPTION[lang]]
    # removed by an operator (`main.py seller remove`, no bot there): the next /seller puts it right
    store_id = await app.services.orders.ensure_store(A)
    await app.services.sellers.remove_seller(store_id, seller_a.user.id)
    await seller_a.send("/seller")
    assert [c.language_code for c in chat_menu_calls(app, DeleteMyCommands, seller_a.user.id)] == ["en", "ru", None]


async def test_telegram_refusing_the_menu_does_not_stop_becoming_a_seller(
        app: App, seller_a: Player, t: dict[str, str]) -> None:
    def refuse(bot: Any, method: Any) -> Any:
        raise TelegramBadRequest(method=method, message="Bad Request: too many requests to change commands")

    app.session.responders[SetMyCommands] = refuse
    await become_seller(app, seller_a, A)
    assert seller_a.last_text.startswith(t["now_seller"].format(store=A))
    assert t["seller_mode"] not in labels(seller_a) and t["reviews"] in labels(seller_a)
