"""Orders through the shop API: placed for a linked customer at once, waiting for one who is not
linked yet, every status change through the order service, and what reaches the buyer."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.fakebot import Player
from tests.api.conftest import BOT, Shop, linked, order_body, store
from tests.conftest import App
from tests.pushkit import sim_delivery


async def deliver_due(app: App) -> None:
    delivery = sim_delivery(app)
    for _ in range(5):
        await delivery(app.clock.now())
        app.clock.advance(seconds=2)


async def test_an_order_created_and_shipped_through_the_api_reaches_the_buyer_as_a_push(
        app: App, nova: Shop, alex: Player) -> None:
    await alex.send("/start")
    store_id = await store(nova)
    await linked(nova, alex, "c-1")
    _, order = await nova.post("/customers/c-1/orders", order_body(store_id, number="NOVA-1001"), status=201)
    assert order["status"] == "awaiting_payment" and order["customer"] == "c-1"
    assert order["total_minor"] == 2599 + 2 * 450 + 300 and order["items"][0]["options"] == {"Colour": "black"}
    _, order = await nova.post("/orders/NOVA-1001/status", {"status": "paid", "card": {"last4": "4242"}}, status=200)
    assert order["status"] == "awaiting_shipment" and order["paid_at"]
    _, order = await nova.post("/orders/nova-1001/status",
                               {"status": "shipped", "track_number": "lp123456789cn", "carrier": "cainiao"},
                               status=200)
    assert order["status"] == "shipped" and order["track_number"] == "LP123456789CN"
    before = len(alex.bot_messages)
    await deliver_due(app)
    pushes = [m.text or "" for m in alex.bot_messages[before:]]
    assert any("Order #NOVA-1001 from Nova Electronics is on its way." in text for text in pushes), pushes
    # the shop placed it and took the payment: the buyer hears of both too (they did neither in the bot)
    assert any(text.startswith("🛒 Nova Electronics placed order #NOVA-1001 for you: $37.99. Pay for it by")
               for text in pushes), pushes
    assert any("💳 Order #NOVA-1001 is paid." in text for text in pushes), pushes
    # the buyer's own account shows it, as the bot's services have it
    card = await app.services.orders.by_number("NOVA-1001")
    assert card.user_id == alex.user.id and card.track_number == "LP123456789CN"


async def test_an_order_waits_for_its_customer_and_appears_when_the_link_is_opened(
        app: App, nova: Shop, masha: Player) -> None:
    store_id = await store(nova)
    _, waiting = await nova.post("/customers/c-2/orders", order_body(store_id), status=201)
    number = waiting["number"]
    assert waiting["status"] == "waiting_for_customer" and number == "261125-000001"
    assert waiting["total_minor"] == 2599 + 900 + 300 and waiting["paid_at"] is None
    # until linked it can be paid (kept for later) or cancelled; nothing else
    _, data = await nova.post(f"/orders/{number}/status", {"status": "shipped", "track_number": "LP12345"},
                              status=409)
    assert data["error"]["code"] == "customer_not_linked"
    _, data = await nova.post(f"/orders/{number}/status", {"status": "paid", "card": {"brand": "Mir", "last4": "0004"}},
                              status=200)
    assert data["status"] == "waiting_for_customer" and data["paid_on_link"] is True and data["paid_at"] is None
    _, data = await nova.post(f"/orders/{number}/status", {"status": "paid", "card": {"last4": "0004"}}, status=409)
    assert data["error"]["code"] == "forbidden_transition"
    await nova.post("/customers/c-2/orders", order_body(store_id, number="N-2"), status=201)
    app.clock.advance(minutes=5)
    cancelled_at = app.clock.now()
    _, data = await nova.post("/orders/N-2/status", {"status": "cancelled"}, status=200)
    assert data["status"] == "cancelled" and datetime.fromisoformat(data["cancelled_at"]) == cancelled_at
    _, listed = await nova.get("/customers/c-2/orders", status=200)
    assert [(o["number"], o["cancelled_at"] is not None) for o in listed["orders"]] == [("N-2", True), (number, False)]
    _, data = await nova.post("/customers/c-2/orders", order_body(store_id, number="N-2"), status=409)
    assert data["error"]["code"] == "number_taken"
    await nova.post(f"/orders/{number}/tracking", {"code": "in_transit"}, status=409)
    _, data = await nova.post("/customers/c-2/coupons", {"store_id": store_id, "currency": "USD", "amount_minor": 300,
                                                         "valid_to": "2027-01-01T00:00:00Z"}, status=409)
    assert data["error"]["code"] == "customer_not_linked"
    # the buyer opens the link: the paid order is theirs now, the cancelled one never comes
    await masha.send("/start")
    _, link = await nova.post("/customers/c-2/link", status=201)
    assert link["url"] == f"https://t.me/{BOT}?start={link['start_parameter']}"
    assert link["start_parameter"].startswith("l_") and len(link["start_parameter"]) <= 64
    await masha.send("/start " + link["start_parameter"])
    assert masha.last_text.startswith("✅ Ваш аккаунт в магазине <b>Nova</b> привязан")
    assert "1 заказ этого магазина теперь в разделе «Мои заказы»." in masha.last_text
    _, order = await nova.get(f"/orders/{number}", status=200)
    assert order["status"] == "awaiting_shipment" and order["customer"] == "c-2"
    placed = await app.services.orders.by_number(number)
    assert placed.user_id == masha.user.id and placed.paid_card_last4 == "0004"
    _, listed = await nova.get("/customers/c-2/orders", status=200)
    assert [(o["number"], o["status"]) for o in listed["orders"]] == [("N-2", "cancelled"),
                                                                      (number, "awaiting_shipment")]
    before = len(masha.bot_messages)
    await deliver_due(app)  # the link's answer said it is placed and paid: no push says it again
    assert not [m.text for m in masha.bot_messages[before:] if number in (m.text or "")]
    await masha.press("📦 Мои заказы")
    assert number in masha.last_text
    # now linked: a new order is placed at once, and another link is refused
    _, third = await nova.post("/customers/c-2/orders", order_body(store_id), status=201)
    assert third["status"] == "awaiting_payment"
    before = len(masha.bot_messages)
    await deliver_due(app)
    assert next(m.text or "" for m in masha.bot_messages[before:]).startswith(
        f"🛒 Nova Electronics оформил для вас заказ № {third['number']} на 37,99")
    _, data = await nova.post("/customers/c-2/link", status=409)
    assert data["error"]["code"] == "already_linked" and "linked to a Telegram account" in data["error"]["message"]


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_link_works_once_and_for_a_day(app: App, nova: Shop, lang: str) -> None:
    first = app.player(1001, first_name="Alex", language_code=lang)
    second = app.player(2002, first_name="Bo", language_code=lang)
    await first.send("/start")
    await second.send("/start")
    _, link = await nova.post("/customers/c-3/link", status=201)
    _, spare = await nova.post("/customers/c-3/link", status=201)
    await first.send("/start " + link["start_parameter"])
    assert "Nova" in first.last_text
    await second.send("/start " + link["start_parameter"])
    used = {"en": "This link has already been used. Ask the shop for a new one.",
            "ru": "Эта ссылка уже использована. Попросите у магазина новую."}[lang]
    assert second.bot_messages[-2].text == used
    await second.send("/start " + spare["start_parameter"])  # an unused link of a customer linked meanwhile
    taken = {"en": "This shop account is already linked to another Telegram account.",
             "ru": "Этот аккаунт магазина уже привязан к другому аккаунту Telegram."}[lang]
    assert second.bot_messages[-2].text == taken
    await second.send("/start l_" + "x" * 24)
    unknown = {"en": "This link is not valid. Ask the shop for a new one.",
               "ru": "Эта ссылка недействительна. Попросите у магазина новую."}[lang]
    assert second.bot_messages[-2].text == unknown
    _, late = await nova.post("/customers/c-4/link", status=201)
    app.clock.advance(hours=24)
    await second.send("/start " + late["start_parameter"])
    expired = {"en": "This link has expired. Ask the shop for a new one.",
               "ru": "Срок действия ссылки истёк. Попросите у магазина новую."}[lang]
    assert second.bot_messages[-2].text == expired
    customer = await app.services.customers.customer(nova.id, "c-4")
    assert customer.user_id is None


async def test_every_status_change_goes_through_the_order_service(app: App, nova: Shop, alex: Player) -> None:
    await alex.send("/start")
    store_id = await store(nova)
    await linked(nova, alex, "c-1")
    for n in range(1, 4):
        await nova.post("/customers/c-1/orders", order_body(store_id, number=f"S-{n}"), status=201)
    # the order's state decides: an unpaid order can't be shipped or refunded
    _, data = await nova.post("/orders/S-1/status", {"status": "shipped", "track_number": "LP12345"}, status=409)
    assert data["error"]["code"] == "forbidden_transition"
    _, data = await nova.post("/orders/S-1/status", {"status": "refunded"}, status=409)
    assert data["error"]["code"] == "forbidden_transition"
    for n in (1, 2):
        await nova.post(f"/orders/S-{n}/status", {"status": "paid", "card": {"last4": "4242"}}, status=200)
    await nova.post("/orders/S-1/status", {"status": "shipped", "track_number": "LP000000001", "carrier": "dhl"},
                    status=200)
    _, added = await nova.post("/orders/S-1/tracking", {"code": "in_transit", "location": "Almaty",
                                                        "at": "2026-11-25T13:00:00+00:00"}, status=200)
    assert added == {"number": "S-1", "added": True}
    _, again = await nova.post("/orders/S-1/tracking", {"code": "in_transit", "location": "Almaty",
                                                        "at": "2026-11-25T13:00:00+00:00"}, status=200)
    assert again["added"] is False
    _, data = await nova.post("/orders/S-1/tracking", {"code": "in_transit", "at": "2026-11-25T13:00:00"},
                              status=422)
    assert data["error"]["fields"][0]["field"] == "at"
    await nova.post("/orders/S-2/tracking", {"code": "in_transit"}, status=409)  # not shipped: no track number
    _, order = await nova.post("/orders/S-1/status", {"status": "delivered"}, status=200)
    assert order["delivered_at"] is not None
    events = await app.services.orders.tracking(alex.user.id, (await app.services.orders.by_number("S-1")).id)
    app.clock.advance(hours=1)
    _, again = await nova.post("/orders/S-1/status", {"status": "delivered"}, status=200)  # a repeat (a new key)
    assert again["delivered_at"] == order["delivered_at"]
    _, added = await nova.post("/orders/S-1/tracking", {"code": "delivered", "location": "Almaty"}, status=200)
    assert added["added"] is False  # a "delivered" event at another time: not a second delivery either
    assert (await app.services.orders.tracking(alex.user.id, events.order.id)).events == events.events
    # a goodwill refund of part of a paid order; then the rest
    _, order = await nova.post("/orders/S-2/status", {"status": "refunded", "amount_minor": 500}, status=200)
    refunds = await app.services.refunds.pending()
    assert [(r.number, r.amount_minor) for r in refunds] == [("S-2", 500)]
    _, order = await nova.post("/orders/S-2/status", {"status": "cancelled"}, status=200)
    assert order["status"] == "cancelled"
    assert sorted((r.number, r.amount_minor) for r in await app.services.refunds.pending()) == [
        ("S-2", 500), ("S-2", 2599 + 900 + 300 - 500)]
    _, order = await nova.post("/orders/S-3/status", {"status": "cancelled", "reason": "other"}, status=200)
    assert order["status"] == "cancelled" and order["cancelled_at"]


async def test_a_link_token_that_begins_like_the_prefix_still_links(app: App, nova: Shop, masha: Player,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The token is random URL-safe text: one in 4,096 begins with "l_" itself; its start parameter
    ("l_l_…") opened in the bot links the customer: only the link's own prefix is taken off."""
    from bot.services.shops import customers

    monkeypatch.setattr(customers.secrets, "token_urlsafe", lambda n: "l_" + "B" * 22)
    await masha.send("/start")
    _, link = await nova.post("/customers/c-9/link", status=201)
    assert link["start_parameter"] == "l_l_" + "B" * 22
    await masha.send("/start " + link["start_parameter"])
    assert masha.last_text.startswith("✅ Ваш аккаунт в магазине <b>Nova</b> привязан")


async def test_a_customers_orders_come_a_page_at_a_time_older_ones_before_a_number(
        app: App, nova: Shop) -> None:
    """100 a page, newest first; `next_before` names the last one when more are older, and
    `?before=` asks for them. A misspelt parameter or a number not the customer's is a 422, never
    the first page again."""
    store_id = await store(nova)
    numbers = [f"P-{n:03d}" for n in range(1, 104)]
    for number in numbers:  # waiting for the customer: placed through the same service, no link needed
        await nova.post("/customers/c-7/orders", order_body(store_id, number=number), status=201)
    _, first = await nova.get("/customers/c-7/orders", status=200)
    assert [o["number"] for o in first["orders"]] == numbers[::-1][:100] and first["next_before"] == "P-004"
    _, rest = await nova.get("/customers/c-7/orders?before=P-004", status=200)
    assert [o["number"] for o in rest["orders"]] == ["P-003", "P-002", "P-001"] and rest["next_before"] is None
    _, data = await nova.get("/customers/c-7/orders?page=2", status=422)
    assert data["error"]["fields"] == [{"field": "page", "reason": "not a query parameter of this endpoint "
                                                                   "(it takes: before)"}]
    await nova.post("/customers/c-8/orders", order_body(store_id, number="OTHER-1"), status=201)
    _, data = await nova.get("/customers/c-7/orders?before=OTHER-1", status=422)
    assert data["error"]["message"] == "No order of this customer has the number given as before."
    _, data = await nova.get("/orders/P-001?x=1", status=422)  # a route that takes none
    assert data["error"]["fields"][0]["reason"] == "not a query parameter of this endpoint"
