"""What a store's sellers are told as it happens, through the Dispatcher and delivery: an order
paid (to ship), a dispute opened (with its deadline), escalated and decided, a new review — each with a button that opens
it in seller mode; every seller of the store, in their language; never the buyer, never a seller of
another store. And /help lists seller mode for sellers."""

from __future__ import annotations

from bot.fakebot import Player
from bot.services.orders import Status
from tests.conftest import App
from tests.flows.test_seller_mode import become_seller, deliver_due, reviewed
from tests.orderkit import make_order

A, B = "Nova Electronics", "Blue Shoes"


async def test_sellers_hear_of_paid_orders_disputes_and_reviews(app: App, alex: Player) -> None:
    sam = app.player(3001, first_name="Sam", language_code="en")
    kim = app.player(3003, first_name="Kim", language_code="ru")
    bea = app.player(3002, first_name="Bea", language_code="en")
    for seller, store in ((sam, A), (kim, A), (bea, B)):
        await become_seller(app, seller, store)
    await alex.send("/start")
    await deliver_due(app)
    before = {p.user.id: len(p.bot_messages) for p in (sam, kim, bea, alex)}

    paid = await make_order(app.services, app.clock, alex.user.id, Status.awaiting_shipment, store=A)
    await deliver_due(app)
    assert sam.last_text == f"📦 Nova Electronics: order #{paid.number} is paid, $37.99. Please ship it."
    assert kim.last_text == f"📦 Nova Electronics: заказ № {paid.number} оплачен, 37,99\xa0$. Отправьте его, пожалуйста."
    await sam.press("📦 Open the order")
    assert sam.last_text.startswith(f"<b>Order #{paid.number}</b>") and "Mark shipped" in str(sam.buttons())

    disputed = await make_order(app.services, app.clock, alex.user.id, Status.in_dispute, store=A)
    await deliver_due(app)
    assert sam.last_text.startswith(f"⚖️ Nova Electronics: a dispute on order #{disputed.number}, $37.99 asked. "
                                    "Please decide by ")
    await kim.press("⚖️ Перейти к спору")
    assert kim.last_text.startswith(f"<b>Спор по заказу № {disputed.number}</b>")

    # the store rejects; the buyer asks the platform; the platform decides — the sellers hear each
    dispute_id = (await app.services.disputes.for_order_number(disputed.number)).id
    await app.services.disputes.seller_answer(dispute_id, "reject", note="As described.", seller_id=sam.user.id)
    await app.services.disputes.escalate(alex.user.id, dispute_id)
    await deliver_due(app)
    assert kim.last_text == (f"⚖️ Nova Electronics: покупатель попросил площадку решить спор по заказу № "
                             f"{disputed.number}.")
    await app.services.disputes.decide(dispute_id, 1000)
    await deliver_due(app)
    assert sam.last_text == (f"⚖️ Nova Electronics: the platform decided the dispute on order #{disputed.number}: "
                             "$10.00 refunded.")
    await sam.press("⚖️ Open the dispute")
    assert sam.last_text.startswith(f"<b>Dispute on order #{disputed.number}</b>")

    review_id = await reviewed(app, alex, A, "Too quiet")
    await deliver_due(app)
    assert sam.last_text.startswith("⭐ Nova Electronics: a new review of Wireless earbuds TWS Pro 5 on order #")
    await sam.press("⭐ Open the review")
    assert sam.last_text.startswith("<b>Review of Wireless earbuds TWS Pro 5</b>")
    assert f"sl:ra:{review_id}" in str(sam.buttons())  # Answer

    # the other store's seller and the buyer hear none of it
    assert len(bea.bot_messages) == before[bea.user.id]
    assert not any(m.text.startswith(("📦 Nova Electronics:", "⚖️ Nova Electronics:", "⭐ Nova Electronics:"))
                   for m in alex.bot_messages[before[alex.user.id]:] if m.text)


async def test_help_lists_seller_mode_for_sellers_only(app: App, alex: Player) -> None:
    sam = app.player(3001, first_name="Sam", language_code="en")
    await become_seller(app, sam, A)
    await sam.send("/help")
    assert "/seller — Seller mode: your store's orders and buyers" in sam.last_text
    await alex.send("/help")
    assert "/seller" not in alex.last_text and "/cancel — Leave what you are doing" in alex.last_text


async def test_a_dispute_not_answered_by_its_day_is_decided_for_the_buyer_and_both_are_told(
        app: App, alex: Player, masha: Player) -> None:
    from bot.runner import build_sweeper

    sam = app.player(3001, first_name="Sam", language_code="en")
    kim = app.player(3003, first_name="Kim", language_code="ru")
    for seller in (sam, kim):
        await become_seller(app, seller, A)
    for buyer in (alex, masha):
        await buyer.send("/start")
    disputed = {b.user.id: await make_order(app.services, app.clock, b.user.id, Status.in_dispute, store=A)
                for b in (alex, masha)}
    await deliver_due(app)
    app.clock.advance(days=10)
    await sam.press("⚖️ Open the dispute")  # past its day, before the sweep: no answer to give any more
    assert "⏳ The day to answer passed on " in sam.last_text and "Accept" not in str(sam.buttons())
    assert (await build_sweeper(app.services)(app.clock.now()))["disputes_overdue"] == 2
    await deliver_due(app)
    number = disputed[alex.user.id].number
    assert any(m.text.startswith(f"↩️ Dispute on order #{number}: the seller did not answer by ")
               and m.text.endswith(", so it is decided in your favour.\nRefund: $37.99") for m in alex.bot_messages)
    assert any(m.text.startswith(f"↩️ Спор по заказу № {disputed[masha.user.id].number}: продавец не ответил до ")
               for m in masha.bot_messages)
    assert any(m.text.startswith(f"⚖️ Nova Electronics: the dispute on order #{number} was not answered by ")
               and m.text.endswith("so the platform decided it for the buyer: $37.99 refunded.") for m in sam.bot_messages)
    assert any("на спор по заказу" in m.text and "в пользу покупателя" in m.text for m in kim.bot_messages)
