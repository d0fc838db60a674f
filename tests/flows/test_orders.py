"""My orders through the real Dispatcher: tabs, pages, search, the card, cancel with a refund,
confirm receipt, tracking, deleted orders, forged ids — in both languages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db import outbox as outbox_repo
from bot.db import refunds as refunds_repo
from bot.keyboards.disputes import DisputeAction, DisputeCb, DraftAction, DraftCb
from bot.keyboards.orders import OrderAction, OrderCb, Tab
from bot.services.orders import NewItem, Status
from tests.conftest import App
from tests.orderkit import EXPIRED_MC, make_order, place


async def start(player) -> None:
    await player.send("/start")


async def test_menu_has_the_orders_sections(app: App, alex) -> None:
    await start(alex)
    labels = [t for t, _ in alex.buttons()]
    assert labels[0] == "📦 My orders"
    assert alex.last.reply_markup.inline_keyboard[0][0].text == "📦 My orders"  # a row of its own
    assert "↩️ Returns & disputes" in labels and "🗑 Deleted orders" in labels
    await alex.press("⚙️ Settings")
    await alex.press("🔔 Notifications")
    for kind in ("Order status changes", "Parcel tracking updates", "Disputes and returns", "Refunds"):
        assert f"✅ {kind}" in [t for t, _ in alex.buttons()]


async def test_tabs_pages_and_an_empty_tab(app: App, alex) -> None:
    await start(alex)
    uid = alex.user.id
    for status in [Status.awaiting_payment] * 7 + [Status.shipped, Status.completed, Status.cancelled,
                                                    Status.closed, Status.awaiting_payment]:
        await make_order(app.services, app.clock, uid, status)
        app.clock.advance(hours=1)
    await alex.press("📦 My orders")
    text = alex.last_text
    assert text.startswith("<b>My orders</b> · All")
    assert text.count("<b>") >= 5 and "<b>1. #" in text and "<b>6. #" not in text
    assert "Wireless earbuds TWS Pro 5 +1 more item" in text
    assert "$37.99" in text and "💳 Awaiting payment" in text
    labels = [t for t, _ in alex.buttons()]
    assert "• All · 12" in labels and "Unpaid · 8" in labels and "To be shipped · 0" in labels
    assert "Completed · 2" in labels  # completed and closed after a dispute
    assert ["1", "2", "3", "4", "5"] == [t for t in labels if t.isdigit()]
    assert "1/3" in labels and "‹" not in labels
    await alex.press("›")
    assert "<b>6. #" in alex.last_text and "2/3" in [t for t, _ in alex.buttons()]
    await alex.press("›")
    assert "<b>11. #" in alex.last_text and "<b>12. #" in alex.last_text and "›" not in [t for t, _ in alex.buttons()]
    await alex.press("Unpaid · 8")
    assert alex.last_text.startswith("<b>My orders</b> · Unpaid") and "1/2" in [t for t, _ in alex.buttons()]
    await alex.press("To be shipped · 0")
    assert "No orders are waiting to be shipped." in alex.last_text
    assert "• To be shipped · 0" in [t for t, _ in alex.buttons()]
    assert not [t for t, _ in alex.buttons() if "In dispute" in t]  # none in dispute: the usual six tabs


async def test_orders_in_dispute_have_a_tab_so_the_tabs_add_up_to_all(app: App, user, lang: str) -> None:
    await user.send("/start")
    for status in (Status.in_dispute, Status.in_dispute, Status.shipped, Status.completed):
        await make_order(app.services, app.clock, user.user.id, status)
    await user.press({"en": "📦 My orders", "ru": "📦 Мои заказы"}[lang])
    labels = [t for t, _ in user.buttons() if " · " in t and t.split(" · ")[-1].isdigit()]
    counts = [int(t.split(" · ")[-1]) for t in labels if not t.startswith("🗑")]
    assert counts[0] == 4 and sum(counts[1:]) == 4  # "All" and the tabs that make it up
    tab = {"en": "In dispute · 2", "ru": "В споре · 2"}[lang]
    assert tab in labels
    await user.press(tab)
    assert user.last_text.count("⚠️") == 2 and "<b>2. " in user.last_text and "<b>3. " not in user.last_text


async def test_the_page_counter_and_stale_pages(app: App, alex) -> None:
    await start(alex)
    for _ in range(6):
        await make_order(app.services, app.clock, alex.user.id, Status.awaiting_payment)
    await alex.press("📦 My orders")
    calls = len(alex.alerts())
    await alex.press("1/2")  # a counter, not a button: answered quietly
    assert len(alex.alerts()) == calls
    await alex.press_data(OrderCb(action=OrderAction.list, tab=Tab.all, page=40).pack())
    assert "2/2" in [t for t, _ in alex.buttons()]  # a page past the end shows the last one


async def test_search_by_word_and_number(app: App, alex) -> None:
    await start(alex)
    lamp = await place(app.services, alex.user.id, items=[NewItem("Desk lamp <LED>", 1, 1500)])
    for _ in range(6):
        await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.press("📦 My orders")
    await alex.press("🔍 Search")
    assert "Type an order number" in alex.last_text
    await alex.send_sticker()
    assert alex.last_text.startswith("Please type the search as text.")
    await alex.send("x")
    assert alex.last_text.startswith("Type at least 2 characters")
    await alex.send("LAMP")
    assert alex.last_text.startswith("<b>Search</b> · “LAMP”")
    assert "Found 1 order." in alex.last_text and "Desk lamp &lt;LED&gt;" in alex.last_text
    await alex.press("1")
    assert f"Order #{lamp.number}" in alex.last_text
    await alex.press("‹ Back")
    assert alex.last_text.startswith("<b>Search</b> · “LAMP”")
    await alex.press("🔍 New search")
    await alex.send("earbuds")
    assert "Found 6 orders." in alex.last_text and "1/2" in [t for t, _ in alex.buttons()]
    await alex.press("›")
    assert "<b>6. #" in alex.last_text
    await alex.press("🔍 New search")
    await alex.send(lamp.number)
    assert "Found 1 order." in alex.last_text
    await alex.press("🔍 New search")
    await alex.send("no such thing")
    assert "Nothing found." in alex.last_text
    await alex.press("✖️ Clear search")
    assert alex.last_text.startswith("<b>My orders</b> · All")
    # the results' pager after the search was forgotten: all orders, with a note
    await alex.press_data(OrderCb(action=OrderAction.list, tab=Tab.search, page=1).pack())
    assert alex.alerts()[-1] == "That search is over; here are all your orders."
    # text outside the search step is not a search
    await alex.send("lamp")
    assert "I respond to buttons and commands" in alex.last_text


async def test_the_order_card(app: App, alex) -> None:
    await start(alex)
    order = await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.press("📦 My orders")
    await alex.press("1")
    text = alex.last_text
    for piece in (f"<b>Order #{order.number}</b>", "🏬 Nova Electronics", "Status: <b>🚚 Shipped</b> · Nov 26, 2026, 12:05\u202fPM",
                  "1. Wireless earbuds TWS Pro 5", "Colour: black · $25.99", "2. USB-C cable 1 m",
                  "2 × $4.50", "Items: $34.99", "Shipping: $3.00", "<b>Total: $37.99</b>",
                  "💳 Paid with Visa •••• 4242", "🛡 Buyer protection: 60 days left",
                  "Alex Doe\n1 Main St\nSpringfield, 12345\nUnited States\n📞 +1 555 0100",
                  f"<code>{order.track_number}</code>"):
        assert piece in text, piece
    labels = [t for t, _ in alex.buttons()]
    assert labels[:3] == ["📍 Track parcel", "✅ Confirm receipt", "⚠️ Open a dispute"]
    assert "✖️ Cancel order" not in labels and "🗑 Delete" not in labels  # on its way: neither
    await alex.press("‹ Back")
    assert alex.last_text.startswith("<b>My orders</b>")


async def test_cancel_a_paid_order_with_a_refund_and_a_double_tap(app: App, alex) -> None:
    await start(alex)
    order = await make_order(app.services, app.clock, alex.user.id, Status.awaiting_shipment)
    await alex.press("📦 My orders")
    await alex.press("1")
    await alex.press("✖️ Cancel order")
    assert "Why do you want to cancel" in alex.last_text
    await alex.press("Delivery takes too long")
    text = alex.last_text
    assert "Reason: Delivery takes too long" in text and "You will get $37.99 back." in text
    assert "The money goes back to Visa •••• 4242." in text and "Expected by Dec 5, 2026." in text
    message, yes = alex.find_button("✖️ Yes, cancel the order")
    await alex.press_data(yes, message)
    assert alex.alerts()[-1] == "The order is cancelled; the refund is on its way."
    assert "Status: <b>✖️ Cancelled</b>" in alex.last_text and "Reason: Delivery takes too long" in alex.last_text
    assert "💸 Refund of $37.99 to Visa •••• 4242: expected by Dec 5, 2026" in alex.last_text
    await alex.press_data(yes, message)  # a double tap on the old confirmation
    assert alex.alerts()[-1] == "This order is already cancelled."
    async with app.services.db.read() as conn:
        assert len(await refunds_repo.for_order(conn, order.id)) == 1
        statuses = [r.payload["status"] for r in await outbox_repo.for_user(conn, alex.user.id, "order_status")]
    assert statuses.count("cancelled") == 1


async def test_cancel_when_the_card_has_expired_in_russian(app: App, masha) -> None:
    await start(masha)
    await make_order(app.services, app.clock, masha.user.id, Status.awaiting_shipment, card=EXPIRED_MC)
    await masha.press("📦 Мои заказы")
    await masha.press("1")
    await masha.press("✖️ Отменить заказ")
    await masha.press("Заказ больше не нужен")
    text = masha.last_text
    assert "Mastercard •••• 5454" in text and "счёт" in text
    assert "37,99\xa0$" in text


async def test_cancel_an_unpaid_order_and_what_cannot_be_cancelled(app: App, alex) -> None:
    await start(alex)
    await make_order(app.services, app.clock, alex.user.id, Status.awaiting_payment)
    shipped = await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.press("📦 My orders")
    await alex.press("2")  # the older one: unpaid
    assert "⏳ Pay by" in alex.last_text
    await alex.press("✖️ Cancel order")
    await alex.press("I changed my mind")
    assert "The order isn't paid yet: nothing will be charged." in alex.last_text
    await alex.press("✖️ Yes, cancel the order")
    assert alex.alerts()[-1] == "The order is cancelled."
    # a stale Cancel button of a shipped order: refused with the reason, the card as it is now
    await alex.press_data(OrderCb(action=OrderAction.cancel, id=shipped.id).pack())
    assert alex.alerts()[-1].startswith("This order has already been shipped and can't be cancelled.")
    assert f"Order #{shipped.number}" in alex.last_text


async def test_confirm_receipt_asks_first_and_changes_state_once(app: App, alex) -> None:
    await start(alex)
    order = await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.press("📦 My orders")
    await alex.press("1")
    await alex.press("✅ Confirm receipt")
    assert "Confirm only after you have received the parcel and checked the item" in alex.last_text
    assert "within 15 days" in alex.last_text
    await alex.press("‹ Not yet")
    assert "Status: <b>🚚 Shipped</b>" in alex.last_text
    await alex.press("✅ Confirm receipt")
    message, yes = alex.find_button("✅ Yes, I received it")
    await alex.press_data(yes, message)
    assert alex.alerts()[-1] == "Thank you! The order is completed."
    assert "Status: <b>✅ Completed</b>" in alex.last_text and "open a dispute until" in alex.last_text
    await alex.press_data(yes, message)
    assert alex.alerts()[-1] == "You have already confirmed receipt of this order."
    assert (await app.services.orders.by_number(order.number)).status == "completed"


async def test_tracking_and_refresh(app: App, masha) -> None:
    await start(masha)
    await make_order(app.services, app.clock, masha.user.id, Status.shipped)
    await masha.press("📦 Мои заказы")
    await masha.press("1")
    await masha.press("📍 Отследить посылку")
    assert "Принята перевозчиком" in masha.last_text and "Цайняо" in masha.last_text
    app.clock.advance(days=14)
    await masha.press("🔄 Обновить")
    assert "Вручена" in masha.last_text
    assert "новых событ" in masha.alerts()[-1]
    await masha.press("🔄 Обновить")
    assert masha.alerts()[-1] == "Новостей от перевозчика пока нет."
    await masha.press("‹ Назад")
    assert "📬 Вручена" in masha.last_text  # delivered: the card asks to confirm receipt
    assert "🛡 Защита покупателя: осталось 46 дней" in masha.last_text
    order = await app.services.orders.by_number((await app.services.orders.page(masha.user.id)).rows[0].number)
    assert order.protection_ends_at is not None  # its last day: "today", at the time in Masha's zone
    app.clock.set(order.protection_ends_at - timedelta(minutes=1))
    await masha.press("‹ Назад")
    await masha.press("1")
    assert "🛡 Защита покупателя заканчивается сегодня в " in masha.last_text


async def test_delete_restore_and_delete_for_good(app: App, alex) -> None:
    await start(alex)
    order = await make_order(app.services, app.clock, alex.user.id, Status.completed)
    await alex.press("📦 My orders")
    await alex.press("1")
    await alex.press("🗑 Delete")
    assert "waits in Deleted orders" in alex.last_text
    await alex.press("🗑 Delete")
    assert alex.alerts()[-1] == "The order is in Deleted orders now."
    assert "You have no orders yet." in alex.last_text
    assert "🗑 Deleted · 1" in [t for t, _ in alex.buttons()]
    await alex.send("/menu")
    await alex.press("🗑 Deleted orders")
    assert alex.last_text.startswith("<b>Deleted orders</b>") and order.number in alex.last_text
    await alex.press("1")
    restore_message, restore = alex.find_button("♻️ Restore")
    await alex.press("♻️ Restore")
    assert alex.alerts()[-1] == "The order is back in My orders."
    assert "🗑 Delete" in [t for t, _ in alex.buttons()]
    await alex.press_data(restore, restore_message)  # a double tap
    assert alex.alerts()[-1] == "This order is already back in your orders."
    await alex.press("🗑 Delete")
    await alex.press("🗑 Delete")
    await alex.press("🗑 Deleted · 1")
    await alex.press("1")
    await alex.press("🗑 Delete for good")
    assert "This can't be undone" in alex.last_text
    message, yes = alex.find_button("🗑 Yes, delete for good")
    await alex.press_data(yes, message)
    assert alex.alerts()[-1] == "The order is deleted for good."
    assert "Nothing here." in alex.last_text
    await alex.press_data(restore, restore_message)  # a button of an order that is gone
    assert alex.alerts()[-1] == "This order is no longer available."
    await alex.press_data(yes, message)
    assert alex.alerts()[-1] == "This order is no longer available."


async def test_orders_in_delivery_or_dispute_cannot_be_deleted_and_say_why(app: App, alex) -> None:
    await start(alex)
    disputed = await make_order(app.services, app.clock, alex.user.id, Status.in_dispute)
    shipped = await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.press("📦 My orders")
    await alex.press("1")
    assert "🗑 Delete" not in [t for t, _ in alex.buttons()]  # no button; a stale one says why
    await alex.press_data(OrderCb(action=OrderAction.delete, id=shipped.id).pack())
    assert alex.alerts()[-1] == "This order is on its way and can't be deleted. Once it is completed, you can delete it."
    await alex.press_data(OrderCb(action=OrderAction.delete, id=disputed.id).pack())
    assert alex.alerts()[-1].startswith("This order has an open dispute and can't be deleted")


async def test_forged_ids_across_two_users(app: App, alex, masha) -> None:
    await start(alex)
    await start(masha)
    mine = await make_order(app.services, app.clock, alex.user.id, Status.in_dispute)
    async with app.services.db.read() as conn:
        from bot.db import disputes as disputes_repo

        dispute = await disputes_repo.for_order(conn, mine.id)
    assert dispute is not None
    forged = [OrderCb(action=a, id=mine.id, reason="other").pack() for a in OrderAction
              if a not in (OrderAction.list, OrderAction.noop, OrderAction.search, OrderAction.clear_search)]
    for data in forged:
        await masha.press_data(data)
        assert masha.alerts()[-1] == "Этот заказ больше недоступен.", data
        assert "<b>Мои заказы</b>" in masha.last_text or "<b>Удалённые заказы</b>" in masha.last_text
    for action in (DisputeAction.open, DisputeAction.accept, DisputeAction.accept_ok, DisputeAction.escalate,
                   DisputeAction.escalate_ok, DisputeAction.photos):
        await masha.press_data(DisputeCb(action=action, id=dispute.id).pack())
        assert masha.alerts()[-1] == "Этот спор больше недоступен.", action
        assert masha.last_text.startswith("<b>Возвраты и споры</b>")
    await masha.press_data(DisputeCb(action=DisputeAction.start, id=mine.id).pack())
    assert masha.alerts()[-1] == "Этот заказ больше недоступен."
    await masha.press_data(DraftCb(action=DraftAction.submit).pack())
    assert "больше не активен" in masha.alerts()[-1]
    await masha.press_data("o:zz:abc")  # not even a valid callback
    assert (await app.services.orders.by_number(mine.number)).status == "in_dispute"
    assert mine.number not in masha.last_text


async def test_leaving_the_search_step_by_a_tab_ends_it(app: App, alex) -> None:
    await start(alex)
    await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.press("📦 My orders")
    await alex.press("🔍 Search")
    await alex.press("‹ Back")
    assert alex.last_text.startswith("<b>My orders</b>")
    await alex.press("🔍 Search")
    await alex.press_data(OrderCb(action=OrderAction.list, tab=Tab.shipped).pack())
    await alex.send("earbuds")  # no longer a search
    assert "I respond to buttons and commands" in alex.last_text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_search_comes_back_to_the_tab_it_was_started_from(app: App, lang: str) -> None:
    """Back from the question, Back from the results and Clear search lead to the tab the search
    was started from, not to "All" (issue 14)."""
    ru = lang == "ru"
    p = app.player(2002 if ru else 1001, first_name="Ivan", language_code=lang)
    await start(p)
    await make_order(app.services, app.clock, p.user.id, Status.shipped)
    await make_order(app.services, app.clock, p.user.id, Status.completed)
    shipped_tab = "<b>Мои заказы</b> · Отправлены" if ru else "<b>My orders</b> · Shipped"
    await p.press("📦 Мои заказы" if ru else "📦 My orders")
    await p.press("Отправлены · 1" if ru else "Shipped · 1")
    assert p.last_text.startswith(shipped_tab)
    await p.press("🔍 Поиск" if ru else "🔍 Search")
    await p.press("‹ Назад" if ru else "‹ Back")
    assert p.last_text.startswith(shipped_tab)
    await p.press("🔍 Поиск" if ru else "🔍 Search")
    await p.send("earbuds")
    assert ("Найдено 2 заказа." if ru else "Found 2 orders.") in p.last_text
    await p.press("‹ Назад" if ru else "‹ Back")
    assert p.last_text.startswith(shipped_tab)
    await p.press("🔍 Поиск" if ru else "🔍 Search")
    await p.send("earbuds")
    await p.press("🔍 Новый поиск" if ru else "🔍 New search")  # a new search keeps where it came from
    await p.send("earbuds")
    await p.press("✖️ Сбросить поиск" if ru else "✖️ Clear search")
    assert p.last_text.startswith(shipped_tab)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_after_nothing_found_a_new_word_searches_again(app: App, lang: str) -> None:
    ru = lang == "ru"
    p = app.player(2002 if ru else 1001, first_name="Ivan", language_code=lang)
    await start(p)
    await make_order(app.services, app.clock, p.user.id, Status.shipped)
    await p.press("📦 Мои заказы" if ru else "📦 My orders")
    await p.press("🔍 Поиск" if ru else "🔍 Search")
    await p.send("sofa")
    assert ("Ничего не нашлось." if ru else "Nothing found.") in p.last_text
    await p.send("earbuds")  # no need to press New search first
    assert ("Найден 1 заказ." if ru else "Found 1 order.") in p.last_text
    await p.send("cable")  # found: the search step is over, as before
    assert ("Найден" if ru else "Found") not in p.last_text


async def test_a_stale_confirmation_button_says_why_and_shows_the_card_as_it_is(app: App, alex) -> None:
    """Refusals are answered by the section (bot/handlers/answers.py): the card as it is now and
    the reason in an alert; a search step is kept."""
    await start(alex)
    order = await make_order(app.services, app.clock, alex.user.id, Status.completed)
    await app.services.orders.delete(alex.user.id, order.id)
    await alex.press_data(OrderCb(action=OrderAction.confirm, id=order.id).pack())
    assert alex.alerts()[-1] == "This order is in Deleted orders. Restore it first."
    assert f"Order #{order.number}" in alex.last_text
    await app.services.orders.restore(alex.user.id, order.id)
    await alex.press_data(OrderCb(action=OrderAction.purge, id=order.id).pack())
    assert alex.alerts()[-1] == "Only an order in Deleted orders can be deleted for good."
    await alex.press_data(OrderCb(action=OrderAction.confirm, id=order.id + 1000).pack())
    assert alex.alerts()[-1] == "This order is no longer available."
    assert alex.last_text.startswith("<b>My orders</b>")


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_an_order_card_opens_its_store(app: App, user, lang: str) -> None:
    """"My orders" tells about the sellers: the order card's 🏬 Store opens the store's page."""
    await start(user)
    order = await make_order(app.services, app.clock, user.user.id, Status.shipped, store="Nova Electronics")
    await user.press_data(OrderCb(action=OrderAction.open, id=order.id).pack())
    await user.press("🏬 Магазин" if lang == "ru" else "🏬 Store")
    assert "Nova Electronics" in user.last_text.split("\n")[0]
    assert ("♥ Подписаться" if lang == "ru" else "♥ Follow") in str(user.buttons())
