"""Returns & disputes through the real Dispatcher: the flow that opens a dispute (every step's
fallback, Back, Edit, a restart), the seller's answer, accept / escalate, the platform's decision."""

from __future__ import annotations

from aiogram.methods import SendMediaGroup

from bot.db import outbox as outbox_repo
from bot.db import refunds as refunds_repo
from bot.services import loyalty
from bot.services.disputes import SellerAnswer
from bot.services.orders import Status
from tests.conftest import App
from tests.orderkit import make_order


async def open_order(player, orders_label: str = "📦 My orders") -> None:
    await player.send("/start")
    await player.press(orders_label)
    await player.press("1")


async def test_a_dispute_from_open_to_an_accepted_offer(app: App, alex) -> None:
    order = await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await open_order(alex)
    await alex.press("⚠️ Open a dispute")
    assert "step 1 of 5" in alex.last_text and "What went wrong?" in alex.last_text
    await alex.send("it broke")  # text where a button is expected
    assert alex.last_text.startswith("Please choose the reason with a button.")
    await alex.press("Damaged or doesn't work")
    assert "step 2 of 5" in alex.last_text
    await alex.send_photo("early")  # a photo where words are expected
    assert alex.last_text.startswith("Please describe the problem in words")
    await alex.send("Broken")
    assert alex.last_text.startswith("Please describe the problem in at least 10 characters.")
    await alex.send("x" * 1001)
    assert alex.last_text.startswith("Please keep the description under 1000 characters (now 1001).")
    await alex.send("The left earbud <b>does not</b> charge at all.")
    assert "step 3 of 5" in alex.last_text and "You paid $37.99." in alex.last_text
    await alex.press("Partial refund")
    await alex.send("lots")
    assert alex.last_text.startswith("Please type an amount as a number")
    await alex.send("99999")
    assert alex.last_text.startswith("The amount can't be more than you paid")
    await alex.send("37.99")  # all of it: a full refund, not a partial one
    assert alex.last_text.startswith("That is all that is left to refund: go back and choose “Full refund” instead.")
    await alex.send("10")
    assert "step 4 of 5" in alex.last_text
    await alex.send("here it is")
    assert alex.last_text.startswith("Please send a photo (as a photo, not a file)")
    await alex.send_photo("photo-a")
    assert "Added: 1 of 3." in alex.last_text
    await alex.send_photo("photo-b")
    await alex.press("➡️ Continue")
    summary = alex.last_text
    assert "step 5 of 5" in summary and "Reason: Damaged or doesn't work" in summary
    assert "You ask for: Partial refund: $10.00" in summary
    assert "&lt;b&gt;does not&lt;/b&gt;" in summary and "📎 2 photos" in summary
    assert "⏳ Decision by Dec 6, 2026" in summary
    await alex.press("✏️ Outcome")
    await alex.press("Partial refund")  # the amount asked again shows what was typed
    assert "Now: $10.00" in alex.last_text and "Type an amount less than $37.99" in alex.last_text
    await alex.send("10")
    await alex.press("✏️ Description")
    await alex.send("The left earbud does not charge, the case light stays off.")
    assert "step 5 of 5" in alex.last_text and "the case light stays off" in alex.last_text
    await alex.press("📨 Submit the dispute")
    assert alex.alerts()[-1].startswith("The dispute is open.")
    card = alex.last_text
    assert f"Dispute on order #{order.number}" in card and "waiting for the seller's answer" in card
    # the shop answers with an offer (the operator command calls the same service)
    dispute = await app.services.disputes.for_order_number(order.number)
    assert dispute.photos == ("photo-a", "photo-b")
    await app.services.disputes.seller_answer(dispute.id, SellerAnswer.offer, offer_minor=600,
                                              note="Sorry! <3")
    await alex.send("/menu")
    await alex.press("↩️ Returns & disputes")
    assert "1 current · 0 completed" in alex.last_text
    await alex.press("1")
    assert "The seller offers a refund of $6.00." in alex.last_text and "Sorry! &lt;3" in alex.last_text
    before = len(app.session.calls_of(SendMediaGroup))
    await alex.press("🖼 Photos · 2")
    assert alex.last_text.startswith("<b>Dispute on")  # the photos, then the card again below them
    (album,) = app.session.calls_of(SendMediaGroup)[before:]  # one album, not a message a photo
    assert len(album.media) == 2
    await alex.press("✅ Accept $6.00")
    assert "The money goes back to Visa •••• 4242." in alex.last_text
    message, yes = alex.find_button("✅ Yes, accept")
    await alex.press_data(yes, message)
    assert alex.alerts()[-1] == "The dispute is closed."
    assert "closed, partly refunded" in alex.last_text
    assert "The seller offered a refund of $6.00." in alex.last_text  # accepted: no longer an open offer
    assert "💸 Refund of $6.00 to Visa •••• 4242: expected by" in alex.last_text
    await alex.press_data(yes, message)  # a double tap
    assert alex.alerts()[-1] == "This dispute is already closed."
    async with app.services.db.read() as conn:
        assert len(await refunds_repo.for_order(conn, order.id)) == 1
        steps = [r.payload["step"] for r in await outbox_repo.for_user(conn, alex.user.id, "dispute")]
    assert steps == ["opened", "seller_offered", "closed"]
    await alex.press("📦 Order")
    assert "🔒 Closed after a dispute" in alex.last_text


async def test_rejected_escalated_and_decided_in_russian_with_priority(app: App, masha, monkeypatch) -> None:
    async def level_4(conn, user_id):
        return 4

    monkeypatch.setattr(loyalty, "level_of", level_4)
    await masha.send("/start")  # the user (and her language) first
    order = await make_order(app.services, app.clock, masha.user.id, Status.completed)
    await open_order(masha, "📦 Мои заказы")
    assert "Что-то не так? До " in masha.last_text
    await masha.press("⚠️ Открыть спор")
    await masha.press("Не тот товар или размер")
    await masha.send("Пришла куртка размера S, а я заказывала M.")
    await masha.press("Вернуть товар и получить деньги")
    assert "шаг 4 из 5" in masha.last_text  # no amount step for a full return
    await masha.press("➡️ Продолжить без фото")
    assert "⚡ Приоритетное рассмотрение" in masha.last_text and "📎 Без фото" in masha.last_text
    await masha.press("📨 Отправить спор")
    dispute = await app.services.disputes.for_order_number(order.number)
    assert dispute.priority and dispute.amount_minor == order.total_minor
    await app.services.disputes.seller_answer(dispute.id, SellerAnswer.reject, note="Размер верный")
    await masha.send("/menu")
    await masha.press("↩️ Возвраты и споры")
    await masha.press("1")
    assert "продавец отказал — ваш ход" in masha.last_text
    await masha.press("⚖️ Передать на решение площадке")
    await masha.press("⚖️ Да, передать площадке")
    assert masha.alerts()[-1] == "Решение примет площадка."
    assert "на рассмотрении площадки" in masha.last_text and "⏳ Решение до " in masha.last_text
    app.clock.advance(days=30)  # the platform is late: the day is not shown as one still ahead
    await masha.press("‹ Назад")
    await masha.press("1")
    assert "⏳ Решение нужно было принять до " in masha.last_text and "⏳ Решение до " not in masha.last_text
    await app.services.disputes.decide(dispute.id, order.total_minor)
    await masha.press("‹ Назад")
    assert "0 текущих · 1 завершённый" in masha.last_text
    await masha.press("1")
    assert "закрыт, деньги возвращены полностью" in masha.last_text
    assert "💸 Возврат 37,99\xa0$ на Visa •••• 4242" in masha.last_text


async def test_back_edit_cancel_and_a_restart_in_the_middle(app: App, alex) -> None:
    await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await open_order(alex)
    await alex.press("⚠️ Open a dispute")
    await alex.press("Item not received")
    await alex.press("‹ Back")
    assert "step 1 of 5" in alex.last_text and "• Item not received" in [t for t, _ in alex.buttons()]
    await alex.press("• Item not received")
    await alex.send("Tracking says delivered but nothing came.")
    await app.restart()  # the draft survives a restart
    await alex.press("Full refund")
    assert "step 4 of 5" in alex.last_text
    assert "photos that show it (optional): the tracking page" in alex.last_text  # nothing damaged to show
    await alex.press("‹ Back")
    assert "step 3 of 5" in alex.last_text
    await alex.press("Partial refund")
    await alex.send("12,5")
    await alex.press("➡️ Continue without photos")
    assert "Partial refund: $12.50" in alex.last_text
    await alex.press("✏️ Outcome")
    await alex.press("Full refund")  # an edit returns to the summary
    assert "step 5 of 5" in alex.last_text and "You ask for: Full refund" in alex.last_text
    await alex.press("‹ Back")
    assert "step 4 of 5" in alex.last_text
    await alex.send("/cancel")
    assert alex.bot_messages[-2].text == "Cancelled. Nothing was saved."
    assert (await app.services.disputes.page(alex.user.id)).total == 0


async def test_back_from_the_first_step_returns_to_the_order_and_stale_steps(app: App, alex) -> None:
    order = await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await open_order(alex)
    await alex.press("⚠️ Open a dispute")
    reason_message, reason_data = alex.find_button("Damaged or doesn't work")
    await alex.press("‹ Back")
    assert f"<b>Order #{order.number}</b>" in alex.last_text
    await alex.press_data(reason_data, reason_message)  # a step button after leaving the flow
    assert "no longer active" in alex.alerts()[-1]
    await alex.press("⚠️ Open a dispute")
    await alex.press("Damaged or doesn't work")
    await alex.press_data(reason_data, reason_message)  # a button of the previous step
    assert alex.alerts()[-1] == "This button belongs to another step; here is the current one."
    assert "step 2 of 5" in alex.last_text


async def test_three_photos_at_most(app: App, alex) -> None:
    await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await open_order(alex)
    await alex.press("⚠️ Open a dispute")
    await alex.press("Not as described")
    await alex.send("The colour is green, not blue.")
    await alex.press("Full refund")
    await alex.send_photo("a")
    await alex.send_photo("b")
    await alex.press("🗑 Remove the photos")
    assert "Added:" not in alex.last_text
    for name in ("c", "d", "e"):
        await alex.send_photo(name)
    assert "step 5 of 5" in alex.last_text and "📎 3 photos" in alex.last_text  # the third one leads on
    await alex.press("✏️ Photos")
    await alex.send_photo("f")
    assert alex.last_text.startswith("You have already added 3 photos, the most a dispute can have.")


async def test_a_dispute_that_became_impossible_meanwhile(app: App, alex) -> None:
    order = await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await open_order(alex)
    await alex.press("⚠️ Open a dispute")
    await alex.press("Item not received")
    assert "what the tracking shows and what you checked" in alex.last_text  # nothing came: not "what you got"
    assert "what you got" not in alex.last_text
    await alex.send("Nothing arrived after a month of waiting.")
    await alex.press("Full refund")
    await alex.press("➡️ Continue without photos")
    await app.services.orders.confirm_receipt(alex.user.id, order.id)  # on another device
    app.clock.advance(days=20)  # the dispute window after completion has passed
    await alex.press("📨 Submit the dispute")
    assert alex.alerts()[-1].startswith("A dispute can be opened within 15 days after the order is completed")
    assert f"<b>Order #{order.number}</b>" in alex.last_text
    await alex.send("hello")  # the flow is over
    assert "I respond to buttons and commands" in alex.last_text


async def test_no_disputes_yet(app: App, alex) -> None:
    await alex.send("/start")
    await alex.press("↩️ Returns & disputes")
    assert "No disputes." in alex.last_text
    await alex.press("📦 My orders")
    assert alex.last_text.startswith("<b>My orders</b>")
