"""A return through the real Dispatcher, both sides, both locales: the seller accepts the return
with an address (a short one asked again), the buyer gets it in a push and on the dispute, says
the item was sent back with its track number (a wrong one asked again, Cancel back to the dispute,
a stale button answered), the seller is told and confirms the item came back, the buyer is
refunded; another store's seller gets nothing. From loyalty level 3 the refund is made when the
item is sent back."""

from __future__ import annotations

import pytest
from aiogram.methods import DeleteMessage

from bot.fakebot import Player
from bot.services import loyalty
from bot.services.disputes import DisputeReason, Outcome
from bot.services.orders import Status
from tests.conftest import App
from tests.flows.test_seller_mode import become_seller, deliver_due
from tests.orderkit import make_order
from tests.services.test_disputes import draft

A, B = "Nova Electronics", "Blue Shoes"
ADDRESS = "Riga, 1 Dock Road, Nova returns desk"

T = {
    "en": {
        "seller_disputes": "↩️ Disputes", "accept_return": "✅ Accept the return",
        "address_short": "To accept a return, give the buyer the address to send the item back to (at least 10",
        "accepted": "The return is accepted: the buyer is told where to send the item.",
        "return_address": "Return address: ", "pushed": "the seller accepted the return",
        "disputes": "↩️ Returns & disputes", "send_to": "Send the item back to: ", "sent_it": "📦 I've sent it back",
        "track_step": "Type the track number of the parcel you sent", "cancel": "✖ Cancel",
        "bad_track": "A track number is 5–40 Latin letters, digits or dashes",
        "thanks": "Thank you! The seller is told the item is on its way back.",
        "thanks_fast": "Thank you! The item is on its way back, and your refund is issued; below is when it reaches you.",
        "you_sent": "📦 You sent it back on", "moved_on": "The dispute has moved on since",
        "told_seller": "the buyer sent the item of order #{number} back, track <code>RR123456789LV</code>",
        "came_back": "📦 It came back: refund", "yes": "✅ Yes, it came back",
        "refunded": "Done: the buyer is refunded.", "closed_full": "closed, refunded in full",
        "gone": "This item is no longer available.", "fast": "⚡ Fast refund, a privilege of your loyalty level",
        "reject": "✖️ Reject with a reason", "offer": "💸 Offer a partial refund", "orders": "📦 My orders",
        "open_dispute": "⚠️ Open a dispute", "damaged": "Damaged or doesn't work",
        "description": "The lamp arrived with a cracked shade.",
        "return_terms": "A return: if the seller agrees, you send the item back within 10 days",
        "return_outcome": "Return the item and get a refund", "skip_photos": "➡️ Continue without photos",
        "edit_reason": "✏️ Reason", "not_received": "Item not received", "full_refund": "Full refund",
        "submit": "📨 Submit the dispute", "back": "‹ Back",
        "fast_terms": "and are refunded as soon as you send it (fast refunds, a privilege of your loyalty level)",
        "too_late": "The day to send this item back has passed.",
        "return_asked": "a return is asked for on order #{number}: the buyer wants to send the item",
        "lock_closed": "🔒", "problem": "⚠️ It did not come back as sent",
        "reason_short": "Please give the buyer a reason of at least 5 characters.",
        "problem_sent": "Sent: the platform decides the return.", "told_platform": "You told the platform: ",
        "seller_says": "the seller says the returned item did not come back as sent",
        "seller_says_card": "The seller says it did not come back as sent: ", "platform": "under review by the platform",
        "buyer_level": "Buyer, loyalty level 1 (Bronze) asks for: Return the item and get a refund",
        "came_back_only": "📦 It came back", "refunded_already": "The order is refunded in full already",
        "closed_done": "Done: the dispute is closed.",
        "refunded_fast": "⚡ Refund issued as soon as you sent it (fast refund).",
        "seller_fast": "⚡ The buyer was refunded ",
    },
    "ru": {
        "seller_disputes": "↩️ Споры", "accept_return": "✅ Принять возврат",
        "address_short": "Чтобы принять возврат, напишите покупателю адрес, куда отправить товар (не короче 10",
        "accepted": "Возврат принят: покупатель узнал, куда отправить товар.",
        "return_address": "Адрес для возврата: ", "pushed": "продавец согласился на возврат",
        "disputes": "↩️ Возвраты и споры", "send_to": "Отправьте товар по адресу: ", "sent_it": "📦 Товар отправлен",
        "track_step": "Напишите трек-номер отправленной посылки", "cancel": "✖ Отмена",
        "bad_track": "Трек-номер — это от 5 до 40 латинских букв, цифр или дефисов",
        "thanks": "Спасибо! Продавец узнал, что товар едет к нему.",
        "thanks_fast": "Спасибо! Товар отправлен обратно, возврат денег уже оформлен; ниже — когда деньги придут.",
        "you_sent": "📦 Вы отправили товар", "moved_on": "Спор уже продвинулся",
        "told_seller": "покупатель отправил товар из заказа № {number} обратно, трек <code>RR123456789LV</code>",
        "came_back": "📦 Товар пришёл: вернуть", "yes": "✅ Да, товар пришёл",
        "refunded": "Готово: покупателю вернут деньги.", "closed_full": "закрыт, деньги возвращены полностью",
        "gone": "Это больше недоступно.", "fast": "⚡ Быстрый возврат денег — привилегия вашего уровня",
        "reject": "✖️ Отказать с причиной", "offer": "💸 Предложить частичный возврат", "orders": "📦 Мои заказы",
        "open_dispute": "⚠️ Открыть спор", "damaged": "Повреждён или не работает", "description": "Лампа пришла с треснувшим плафоном.",
        "return_terms": "Возврат: если продавец согласится, вы отправите товар обратно в течение 10 дней", "return_outcome": "Вернуть товар и получить деньги",
        "skip_photos": "➡️ Продолжить без фото", "edit_reason": "✏️ Причина", "not_received": "Товар не получен",
        "full_refund": "Полный возврат денег", "submit": "📨 Отправить спор", "back": "‹ Назад",
        "fast_terms": "а деньги вернутся сразу после отправки (быстрый возврат — привилегия вашего уровня)", "too_late": "Срок отправки этого товара обратно прошёл.",
        "return_asked": "по заказу № {number} просят возврат — покупатель хочет отправить товар обратно",
        "lock_closed": "🔒",
        "problem": "⚠️ Проблема с возвратом",
        "reason_short": "Напишите покупателю причину — не короче 5 символов.",
        "problem_sent": "Отправлено: решение по возврату примет площадка.", "told_platform": "Вы сообщили площадке: ",
        "seller_says": "продавец сообщает о проблеме с возвратом",
        "seller_says_card": "Продавец сообщает о проблеме с возвратом: ",
        "platform": "на рассмотрении площадки",
        "buyer_level": "Покупатель, уровень лояльности 1 (Бронзовый) просит: Вернуть товар и получить деньги",
        "came_back_only": "📦 Товар пришёл", "refunded_already": "Деньги за заказ уже возвращены полностью",
        "closed_done": "Готово: спор закрыт.",
        "refunded_fast": "⚡ Возврат денег оформили сразу, как только вы отправили товар (быстрый возврат).",
        "seller_fast": "⚡ Покупателю вернули ",
    },
}


@pytest.fixture
def t(lang: str) -> dict[str, str]:
    return T[lang]


async def return_dispute(app: App, buyer: Player) -> tuple[str, int]:
    """A shipped order of store A and a dispute asking to return the item: (number, dispute id)."""
    await buyer.send("/start")
    order = await make_order(app.services, app.clock, buyer.user.id, Status.shipped, store=A)
    dispute = await app.services.disputes.open(buyer.user.id, order.id,
                                               draft(Outcome.return_refund, reason=DisputeReason.wrong_item))
    return order.number, dispute.id


async def open_dispute(buyer: Player, t: dict[str, str]) -> None:
    await buyer.send("/start")
    await buyer.press(t["disputes"])
    await buyer.press("1")


async def test_a_return_from_acceptance_to_the_refund(app: App, user: Player, seller_a: Player, seller_b: Player,
                                                      t: dict[str, str]) -> None:
    buyer = user
    number, dispute_id = await return_dispute(app, buyer)
    await become_seller(app, seller_a, A)
    await become_seller(app, seller_b, B)
    # the seller accepts the return: where to send it is asked (a short answer asked again)
    await seller_a.send("/seller")
    await seller_a.press(t["seller_disputes"] + " · 1")
    await seller_a.press("1")
    await seller_a.press(t["accept_return"])
    await seller_a.send("Riga")
    assert seller_a.last_text.startswith(t["address_short"])
    await seller_a.send(ADDRESS)
    assert seller_a.last_text.startswith(t["accepted"]) and t["return_address"] + ADDRESS in seller_a.last_text
    # the buyer is told where, and the dispute says it, with the button to say it is sent
    before = len(buyer.bot_messages)
    await deliver_due(app)
    pushes = "\n".join(m.text or "" for m in buyer.bot_messages[before:])
    assert t["pushed"] in pushes and ADDRESS in pushes
    await open_dispute(buyer, t)
    assert t["send_to"] + f"<i>{ADDRESS}</i>" in buyer.last_text and t["fast"] not in buyer.last_text
    await buyer.press(t["sent_it"])
    assert t["track_step"] in buyer.last_text
    await buyer.send("no idea")
    assert buyer.last_text.startswith(t["bad_track"])
    await buyer.press(t["cancel"])  # back to the dispute, nothing sent
    assert t["send_to"] in buyer.last_text
    assert (await app.services.disputes.card(buyer.user.id, dispute_id)).dispute.returned_at is None
    _, stale = buyer.find_button(t["sent_it"])
    await buyer.press(t["sent_it"])
    await buyer.send("rr 1234 56789 lv")
    assert buyer.last_text.startswith(t["thanks"])
    assert t["you_sent"] in buyer.last_text and "RR123456789LV" in buyer.last_text
    await buyer.press_data(stale)  # the button of an older message: sent already
    assert buyer.alerts()[-1].startswith(t["moved_on"])
    # the seller is told, and confirms the item came back; another store's seller can't
    await deliver_due(app)
    assert any(t["told_seller"].format(number=number) in (m.text or "") for m in seller_a.bot_messages)
    for data in (f"sl:dc:{dispute_id}:0", f"sl:dcy:{dispute_id}:0"):
        await seller_b.press_data(data)
        assert seller_b.alerts()[-1] == t["gone"] and number not in seller_b.last_text
    await seller_a.send("/seller")
    await seller_a.press(t["seller_disputes"] + " · 1")
    await seller_a.press("1")
    await seller_a.press(t["came_back"])
    await seller_a.press(t["yes"])
    assert seller_a.alerts()[-1] == t["refunded"] and t["closed_full"] in seller_a.last_text
    assert t["came_back"] not in "".join(text for text, _ in seller_a.buttons())
    card = await app.services.disputes.card(buyer.user.id, dispute_id)
    assert (card.dispute.resolution, [r.amount_minor for r in card.refunds]) == ("refunded_full",
                                                                                 [card.dispute.amount_minor])
    before = len(buyer.bot_messages)
    await deliver_due(app)
    assert any(t["closed_full"] in (m.text or "") for m in buyer.bot_messages[before:])


async def test_from_level_3_the_refund_comes_with_the_track_number(app: App, user: Player, seller_a: Player,
                                                                   t: dict[str, str], monkeypatch) -> None:
    async def level_3(conn, user_id):
        return 3

    monkeypatch.setattr(loyalty, "level_of", level_3)
    buyer = user
    _, dispute_id = await return_dispute(app, buyer)
    await app.services.disputes.seller_answer(dispute_id, "accept", note=ADDRESS)
    await open_dispute(buyer, t)
    assert t["fast"] in buyer.last_text
    await buyer.press(t["sent_it"])
    await buyer.send("RR123456789LV")
    assert buyer.last_text.startswith(t["thanks_fast"]) and t["refunded_fast"] in buyer.last_text
    # the return stays open for the store: it sees the refund made, confirms, and nothing more is paid
    await become_seller(app, seller_a, A)
    await seller_a.send("/seller")
    await seller_a.press(t["seller_disputes"] + " · 1")
    await seller_a.press("1")
    assert t["seller_fast"] in seller_a.last_text and t["problem"] in str(seller_a.buttons())
    await seller_a.press(t["came_back_only"])
    await seller_a.press(t["yes"])
    assert t["closed_full"] in seller_a.last_text
    card = await app.services.disputes.card(buyer.user.id, dispute_id)
    assert [r.amount_minor for r in card.refunds] == [card.dispute.amount_minor]  # one refund, at the sending


async def test_the_store_may_still_reject_or_offer_and_a_closed_return_tells_what_happened(
        app: App, user: Player, seller_a: Player, t: dict[str, str]) -> None:
    buyer = user
    _, dispute_id = await return_dispute(app, buyer)
    await become_seller(app, seller_a, A)
    await seller_a.send("/seller")
    await seller_a.press(t["seller_disputes"] + " · 1")
    await seller_a.press("1")
    shown = [text for text, _ in seller_a.buttons()]
    assert t["accept_return"] in shown and t["reject"] in shown and t["offer"] in shown
    assert t["buyer_level"] in seller_a.last_text  # all the store sees of the buyer
    await app.services.disputes.seller_answer(dispute_id, "accept", note=ADDRESS)
    await app.services.disputes.send_back(buyer.user.id, dispute_id, "RR123456789LV")
    await app.services.disputes.decide(dispute_id, 0)  # the platform: no refund (say, it came back empty)
    await open_dispute(buyer, t)
    card = buyer.last_text
    assert t["send_to"] not in card and t["return_address"] + f"<i>{ADDRESS}</i>" in card
    assert t["you_sent"] in card and "RR123456789LV" in card and t["sent_it"] not in str(buyer.buttons())


async def test_russian_posts_14_digits_are_a_track_number_not_a_card(app: App, user: Player,
                                                                      t: dict[str, str]) -> None:
    """14 digits that pass the Luhn check, as one Russian Post number in ten does: taken in the
    track-number step; anywhere else the card-number guard still removes them."""
    buyer = user
    _, dispute_id = await return_dispute(app, buyer)
    await app.services.disputes.seller_answer(dispute_id, "accept", note=ADDRESS)
    await open_dispute(buyer, t)
    await buyer.press(t["sent_it"])
    await buyer.send("4111 1111 1111 1111")  # a card number is one even here: removed, asked again
    assert len(app.session.calls_of(DeleteMessage)) == 1 and t["track_step"] in buyer.last_text
    await buyer.send("3600 000000 0008")  # 14 digits as a Diners Club card begins: a card, removed
    assert len(app.session.calls_of(DeleteMessage)) == 2 and t["track_step"] in buyer.last_text
    await buyer.send("8008 5123 4567 86")
    assert buyer.last_text.startswith(t["thanks"])
    assert (await app.services.disputes.card(buyer.user.id, dispute_id)).dispute.return_track == "80085123456786"
    await buyer.send("80085123456786")  # outside the step: a card number, removed
    assert len(app.session.calls_of(DeleteMessage)) == 3


async def test_an_item_that_never_came_is_not_offered_as_a_return(app: App, user: Player, t: dict[str, str]) -> None:
    buyer = user
    await buyer.send("/start")
    await make_order(app.services, app.clock, buyer.user.id, Status.shipped, store=A)
    await buyer.press(t["orders"])
    await buyer.press("1")
    await buyer.press(t["open_dispute"])
    await buyer.press(t["damaged"])
    await buyer.send(t["description"])
    assert t["return_terms"] in buyer.last_text
    await buyer.press(t["return_outcome"])
    await buyer.press(t["skip_photos"])
    assert t["return_terms"] in buyer.last_text  # the summary says what a return means
    await buyer.press(t["edit_reason"])
    await buyer.press(t["not_received"])  # a return of what never came: the outcome is asked again
    assert t["return_outcome"] not in str(buyer.buttons()) and "• " + t["full_refund"] in str(buyer.buttons())
    await buyer.press(t["back"])  # the nearest outcome stands: the summary is whole
    assert t["full_refund"] in buyer.last_text and t["submit"] in str(buyer.buttons())
    await buyer.press(t["submit"])
    card = await app.services.disputes.card(buyer.user.id, (await app.services.disputes.page(buyer.user.id)).rows[0].id)
    assert (card.dispute.reason, card.dispute.outcome) == ("not_received", "full_refund")


async def test_level_3_is_told_its_fast_refund_and_a_late_button_says_the_day_passed(
        app: App, user: Player, t: dict[str, str], monkeypatch) -> None:
    async def level_3(conn, user_id):
        return 3

    monkeypatch.setattr(loyalty, "level_of", level_3)
    buyer = user
    await buyer.send("/start")
    await make_order(app.services, app.clock, buyer.user.id, Status.shipped, store=A)
    await buyer.press(t["orders"])
    await buyer.press("1")
    await buyer.press(t["open_dispute"])
    await buyer.press(t["damaged"])
    await buyer.send(t["description"])
    assert t["fast_terms"] in buyer.last_text
    await buyer.send("/cancel")
    _, dispute_id = await return_dispute(app, buyer)
    await app.services.disputes.seller_answer(dispute_id, "accept", note=ADDRESS)
    await open_dispute(buyer, t)
    _, stale = buyer.find_button(t["sent_it"])
    app.clock.advance(days=11)
    await buyer.press_data(stale)
    assert buyer.alerts()[-1] == t["too_late"]


async def test_the_store_says_the_return_did_not_come_back_as_sent(app: App, user: Player, seller_a: Player,
                                                                   t: dict[str, str]) -> None:
    buyer = user
    number, dispute_id = await return_dispute(app, buyer)
    await become_seller(app, seller_a, A)
    await app.services.disputes.seller_answer(dispute_id, "accept", note=ADDRESS)
    await app.services.disputes.send_back(buyer.user.id, dispute_id, "RR123456789LV")
    await seller_a.send("/seller")
    await seller_a.press(t["seller_disputes"] + " · 1")
    await seller_a.press("1")
    await seller_a.press(t["problem"])
    await seller_a.send("no")
    assert seller_a.last_text.startswith(t["reason_short"])
    await seller_a.send("The parcel held a brick, not the lamp.")
    assert seller_a.last_text.startswith(t["problem_sent"]) and t["told_platform"] in seller_a.last_text
    assert t["problem"] not in str(seller_a.buttons()) and t["came_back"] not in str(seller_a.buttons())
    before = len(buyer.bot_messages)
    await deliver_due(app)
    assert any(t["seller_says"] in (m.text or "") and "brick" in (m.text or "") for m in buyer.bot_messages[before:])
    await open_dispute(buyer, t)
    assert t["seller_says_card"] in buyer.last_text and t["platform"] in buyer.last_text
    assert number in buyer.last_text


async def test_where_to_send_a_return_reaches_a_buyer_who_silenced_dispute_news(
        app: App, user: Player, seller_a: Player, t: dict[str, str]) -> None:
    """The return's address and day are the buyer's to act on: not held by the "Disputes and
    returns" toggle. And a dispute's close is told once (the dispute's push), not also as the
    order's status. The store's news says it is a return that is asked."""
    buyer = user
    await become_seller(app, seller_a, A)
    number, dispute_id = await return_dispute(app, buyer)
    await app.services.reminders.toggle(buyer.user.id, "dispute")  # off
    await deliver_due(app)
    assert any(t["return_asked"].format(number=number) in (m.text or "") for m in seller_a.bot_messages)
    await app.services.disputes.seller_answer(dispute_id, "accept", note=ADDRESS)
    before = len(buyer.bot_messages)
    await deliver_due(app)
    pushes = "\n".join(m.text or "" for m in buyer.bot_messages[before:])
    assert t["pushed"] in pushes and ADDRESS in pushes
    await app.services.reminders.toggle(buyer.user.id, "dispute")  # on again
    await app.services.disputes.send_back(buyer.user.id, dispute_id, "RR123456789LV")
    await app.services.disputes.return_received(dispute_id)
    before = len(buyer.bot_messages)
    await deliver_due(app)
    said = [m.text or "" for m in buyer.bot_messages[before:]]
    assert sum(t["closed_full"] in text for text in said) == 1 and not any(t["lock_closed"] in x for x in said)


async def test_a_buyer_who_silenced_dispute_news_still_hears_the_close_from_the_order(
        app: App, user: Player, t: dict[str, str]) -> None:
    buyer = user
    _, dispute_id = await return_dispute(app, buyer)
    await app.services.reminders.toggle(buyer.user.id, "dispute")  # off
    await app.services.disputes.decide(dispute_id, 0)  # no refund either: nothing else would tell
    before = len(buyer.bot_messages)
    await deliver_due(app)
    assert any(t["lock_closed"] in (m.text or "") for m in buyer.bot_messages[before:])


async def test_a_return_the_store_refunded_in_full_meanwhile_closes_refunded_not_rejected(
        app: App, user: Player, seller_a: Player, t: dict[str, str]) -> None:
    buyer = user
    _number, dispute_id = await return_dispute(app, buyer)
    await become_seller(app, seller_a, A)
    await app.services.disputes.seller_answer(dispute_id, "accept", note=ADDRESS)
    await app.services.disputes.send_back(buyer.user.id, dispute_id, "RR123456789LV")
    card = await app.services.disputes.card(buyer.user.id, dispute_id)
    await app.services.orders.refund(buyer.user.id, card.dispute.order_id)  # the store's goodwill: all of it
    await seller_a.send("/seller")
    await seller_a.press(t["seller_disputes"] + " · 1")
    await seller_a.press("1")
    assert t["came_back"] not in str(seller_a.buttons())  # no "refund $0.00"
    await seller_a.press(t["came_back_only"])
    assert t["refunded_already"] in seller_a.last_text
    await seller_a.press(t["yes"])
    assert seller_a.alerts()[-1] == t["closed_done"] and t["closed_full"] in seller_a.last_text
    before = len(buyer.bot_messages)
    await deliver_due(app)
    assert any(t["closed_full"] in (m.text or "") for m in buyer.bot_messages[before:])


@pytest.mark.parametrize("lang", ["en"])
async def test_a_seller_in_another_time_zone_sees_the_moment_the_buyers_day_ends(
        app: App, user: Player, seller_a: Player) -> None:
    """The buyer (UTC) sends the item back by the end of their day; a seller in Moscow reads that as
    the moment it is there (the next morning), not a later date that contradicts the buyer's."""
    buyer = user
    _number, dispute_id = await return_dispute(app, buyer)
    await become_seller(app, seller_a, A)
    await app.services.settings.set_time_zone(seller_a.user.id, "Europe/Moscow")
    await app.services.disputes.seller_answer(dispute_id, "accept", note=ADDRESS)
    card = await app.services.disputes.card(buyer.user.id, dispute_id)
    assert (card.dispute.return_by.hour, card.dispute.return_by.minute) == (23, 59)  # the buyer's day, in UTC
    await seller_a.send("/seller")
    await seller_a.press(T["en"]["seller_disputes"] + " · 1")
    await seller_a.press("1")
    day = card.dispute.return_by.day + 1
    assert f"sends the item back by Dec {day}, 2026, 2:59\u202fAM;" in seller_a.last_text


async def test_accepting_a_dispute_the_store_refunded_in_full_meanwhile_says_it_closed(
        app: App, user: Player, seller_a: Player, lang: str) -> None:
    buyer = user
    await buyer.send("/start")
    order = await make_order(app.services, app.clock, buyer.user.id, Status.shipped, store=A)
    await app.services.disputes.open(buyer.user.id, order.id, draft(Outcome.full_refund))
    await become_seller(app, seller_a, A)
    await app.services.orders.refund(buyer.user.id, order.id)  # the store's goodwill: all of it
    await seller_a.send("/seller")
    await seller_a.press(T[lang]["seller_disputes"] + " · 1")
    await seller_a.press("1")
    await seller_a.press({"en": "✅ Accept", "ru": "✅ Принять"}[lang])
    await seller_a.press({"en": "✅ Yes, accept", "ru": "✅ Да, принять"}[lang])
    assert seller_a.alerts()[-1] == T[lang]["closed_done"]  # not "the buyer is refunded": nothing more was
