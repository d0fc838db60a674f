"""The rest of the shop's side through the API — products (a lower price alerts the buyers who keep
the product), disputes, review replies, coupons and certificates — and that a shop reaches only its
own stores' data."""

from __future__ import annotations

import json

from aiohttp.test_utils import TestClient

from bot.fakebot import Player
from bot.services.orders import Status
from tests.api.conftest import Shop, linked, make_shop, order_body, store
from tests.api.test_orders import deliver_due
from tests.conftest import App
from tests.orderkit import make_order
from tests.services.test_disputes import draft


async def test_products_are_upserted_by_title_and_a_lower_price_alerts_their_keepers(
        app: App, nova: Shop, alex: Player) -> None:
    await alex.send("/start")
    store_id = await store(nova)
    body = {"title": "Desk lamp", "price_minor": 4000, "currency": "usd", "category": "home",
            "options": {"colour": ["black", "white"]}}
    _, product = await nova.post(f"/stores/{store_id}/products", body, status=200)
    assert product == {"id": product["id"], "store_id": store_id, "title": "Desk lamp", "price_minor": 4000,
                       "currency": "USD"}
    await app.services.kept.wish(alex.user.id, product["id"])
    before = len(alex.bot_messages)
    _, again = await nova.post(f"/stores/{store_id}/products", {**body, "price_minor": 3200}, status=200)
    assert again["id"] == product["id"]
    await deliver_due(app)
    assert any("Desk lamp" in (m.text or "") and "cheaper" in (m.text or "") for m in alex.bot_messages[before:])
    _, data = await nova.post(f"/stores/{store_id}/products", {**body, "price_minor": 0}, status=422)
    assert data["error"]["fields"][0]["field"] == "price_minor"


async def test_disputes_are_answered_not_decided(app: App, client: TestClient, alex: Player) -> None:
    await alex.send("/start")
    orders = [await make_order(app.services, app.clock, alex.user.id, Status.shipped, store="Nova Electronics")
              for _ in range(3)]
    for order in orders:  # opened together: each store's answer is due 10 days from now
        await app.services.disputes.open(alex.user.id, order.id, draft())
    store_id = orders[0].store_id
    nova = await make_shop(app, client, "Nova", (store_id,))
    _, read = await nova.get(f"/orders/{orders[0].number}/dispute", status=200)  # what the buyer asks, and why
    assert {k: read[k] for k in ("state", "reason", "outcome", "description", "photos", "seller_answer")} == {
        "state": "open", "reason": "not_as_described", "outcome": "full_refund",
        "description": "The colour is not what the photos show.", "photos": 0, "seller_answer": None}
    assert read["decide_by"] is not None and str(alex.user.id) not in json.dumps(read)
    _, data = await nova.post(f"/orders/{orders[0].number}/dispute/answer", {"answer": "reject"}, status=422)
    assert data["error"]["message"].startswith("Please give the buyer a reason")  # the buyer reads why
    _, data = await nova.post(f"/orders/{orders[0].number}/dispute/answer", {"answer": "reject", "note": "Fine."},
                              status=200)
    assert data["state"] == "answered" and data["number"] == orders[0].number
    _, data = await nova.post(f"/orders/{orders[1].number}/dispute/answer", {"answer": "offer"}, status=422)
    assert data["error"]["fields"][0]["field"] == "offer_minor"
    _, data = await nova.post(f"/orders/{orders[1].number}/dispute/answer",  # all that was asked: that is Accept
                              {"answer": "offer", "offer_minor": orders[1].total_minor}, status=422)
    assert data["error"]["message"].startswith("A partial refund must be less than what accepting the dispute")
    _, data = await nova.post(f"/orders/{orders[1].number}/dispute/answer", {"answer": "offer", "offer_minor": 500},
                              status=200)
    assert data["state"] == "answered"
    _, data = await nova.post(f"/orders/{orders[2].number}/dispute/answer", {"answer": "accept"}, status=200)
    assert data["state"] == "closed"
    _, data = await nova.post(f"/orders/{orders[2].number}/dispute/answer", {"answer": "accept"}, status=409)
    assert data["error"]["code"] == "already_done"
    # the shop answers; it never decides: a dispute it rejected stays open for the buyer to escalate
    _, data = await nova.post(f"/orders/{orders[0].number}/dispute/decision", {"refund_minor": 0}, status=404)
    assert data["error"]["code"] == "not_found"
    assert (await app.services.disputes.for_order_number(orders[0].number)).state == "answered"
    # and a store that lets its day pass can't answer any more: the platform decides for the buyer
    late = await make_order(app.services, app.clock, alex.user.id, Status.in_dispute, store="Nova Electronics")
    app.clock.advance(days=11)
    _, data = await nova.post(f"/orders/{late.number}/dispute/answer", {"answer": "reject", "note": "Too late?"},
                              status=409)
    assert data["error"]["code"] == "answer_too_late"


async def test_a_review_gets_the_shops_reply_and_the_buyer_a_push(app: App, client: TestClient, alex: Player) -> None:
    await alex.send("/start")
    order = await make_order(app.services, app.clock, alex.user.id, Status.completed, store="Nova Electronics")
    targets = (await app.services.reviews.order_targets(alex.user.id, order.id)).targets
    published = await app.services.reviews.publish(alex.user.id, targets[0].item.item_id, rating=2, text="Scratched.")
    review_id = published.card.review.id
    nova = await make_shop(app, client, "Nova", (order.store_id,))
    other = await make_shop(app, nova.client, "Other")
    await other.post(f"/reviews/{review_id}/reply", {"text": "Not ours"}, status=404)
    _, data = await nova.post(f"/reviews/{review_id}/reply", {"text": "  Sorry — a new one is on its way.  "},
                              status=200)
    assert {k: data[k] for k in ("id", "number", "rating", "reply", "text", "title", "first_rating")} == {
        "id": review_id, "number": order.number, "rating": 2, "reply": "Sorry — a new one is on its way.",
        "text": "Scratched.", "title": "Wireless earbuds TWS Pro 5", "first_rating": None}
    await app.services.reviews.add_extra(alex.user.id, review_id, rating=4, text="They replaced it.")
    _, read = await nova.get(f"/reviews/{review_id}", status=200)  # read, as the webhook named it
    assert (read["rating"], read["first_rating"], read["additional_text"]) == (4, 2, "They replaced it.")
    assert str(alex.user.id) not in json.dumps(read)  # never the buyer
    await other.get(f"/reviews/{review_id}", status=404)
    await nova.post(f"/reviews/{review_id}/reply", {"text": ""}, status=422)
    await nova.post("/reviews/99999/reply", {"text": "Hello"}, status=404)
    for review_id in ("abc", "99999", "9999999999999999999"):  # no review, whatever the id: the same answer
        _, data = await nova.post(f"/reviews/{review_id}/reply", {"text": "Hello"}, status=404)
        assert data["error"]["message"] == "There is no such review."
    before = len(alex.bot_messages)
    await deliver_due(app)
    assert any("The seller answered your review" in (m.text or "") and order.number in (m.text or "")
               for m in alex.bot_messages[before:])


async def test_coupons_and_certificates_go_to_a_linked_customer(app: App, nova: Shop, alex: Player) -> None:
    await alex.send("/start")
    store_id = await store(nova)
    await linked(nova, alex, "c-1")
    coupon = {"store_id": store_id, "currency": "USD", "amount_minor": 500, "min_order_minor": 2000,
              "valid_to": "2027-01-31T00:00:00Z", "title": "Thanks!"}
    _, data = await nova.post("/customers/c-1/coupons", coupon, status=201)
    assert data["customer"] == "c-1"
    wallet = await app.services.coupons.wallet(alex.user.id)
    coupons = [i for i in wallet.items if getattr(i, "terms", None) is not None]
    assert [(c.id, c.terms.store_id, c.terms.amount_minor) for c in coupons] == [(data["id"], store_id, 500)]
    _, data = await nova.post("/customers/c-1/coupons", {**coupon, "percent": 10}, status=422)
    assert data["error"]["fields"][0]["field"] == "amount_minor"
    await nova.post("/customers/c-1/coupons", {**coupon, "store_id": 424242}, status=404)
    for dates in ({"valid_to": "2027-01-31"}, {"valid_to": "2027-01-31T00:00:00"},  # no zone: a 422, not a 500
                  {"valid_from": "2026-12-01T00:00:00", "valid_to": "2027-01-31T00:00:00Z"}):
        _, data = await nova.post("/customers/c-1/coupons", {**coupon, **dates}, status=422)
        assert data["error"]["fields"][0]["field"] in dates
    _, data = await nova.post("/customers/c-1/certificates", {"amount_minor": 2500, "currency": "usd",
                                                              "valid_to": "2027-06-30T00:00:00"}, status=422)
    assert data["error"]["fields"][0]["field"] == "valid_to"
    _, data = await nova.post("/customers/c-1/certificates", {"amount_minor": 2500, "currency": "usd",
                                                              "valid_to": "2020-01-01T00:00:00Z"}, status=422)
    assert data["error"]["message"] == "A gift certificate must be valid until a moment still to come."
    await nova.post("/customers/nobody/coupons", coupon, status=404)
    _, cert = await nova.post("/customers/c-1/certificates", {"amount_minor": 2500, "currency": "usd",
                                                              "valid_to": "2027-11-25T00:00:00Z"}, status=201)
    assert cert["amount_minor"] == 2500 and cert["currency"] == "USD"
    # the shop's certificate pays only in the shop's stores, and says so in the wallet
    granted = (await app.services.coupons.certificate(alex.user.id, cert["id"])).certificate
    assert (granted.shop_id, granted.shop) == (nova.id, "Nova")
    await alex.send("/start")
    await alex.press("🎟 Coupons")
    assert "Stores of Nova" in alex.last_text


async def test_a_shop_sees_and_changes_only_its_own_stores_data(app: App, nova: Shop, other: Shop,
                                                               alex: Player) -> None:
    await alex.send("/start")
    store_id = await store(nova)
    other_store = await store(other, "Other store")
    await linked(nova, alex, "c-1")
    await nova.post("/customers/c-1/orders", order_body(store_id, number="MINE-1"), status=201)
    await nova.post("/customers/c-9/orders", order_body(store_id, number="MINE-2"), status=201)  # waiting
    for number in ("MINE-1", "MINE-2"):
        _, data = await other.get(f"/orders/{number}", status=404)
        assert "MINE" not in str(data)
        await other.post(f"/orders/{number}/status", {"status": "cancelled"}, status=404)
        await other.post(f"/orders/{number}/tracking", {"code": "in_transit"}, status=404)
        await other.post(f"/orders/{number}/dispute/answer", {"answer": "accept"}, status=404)
    # another shop's store: no products, no orders, no coupons in it
    await other.post(f"/stores/{store_id}/products", {"title": "X", "price_minor": 1, "currency": "USD"}, status=404)
    await other.post("/customers/c-1/orders", order_body(store_id), status=404)
    await nova.post("/customers/c-1/orders", order_body(other_store), status=404)
    # the same customer id in another shop is another customer (not linked, no orders)
    _, data = await other.get("/customers/c-1/orders", status=404)
    await other.post("/customers/c-1/orders", order_body(other_store, number="THEIRS-1"), status=201)
    _, data = await other.get("/customers/c-1/orders", status=200)
    assert [(o["number"], o["status"]) for o in data["orders"]] == [("THEIRS-1", "waiting_for_customer")]
    _, data = await nova.get("/customers/c-1/orders", status=200)
    assert [o["number"] for o in data["orders"]] == ["MINE-1"]
    # an order placed in the bot in the shop's store is the shop's too (customer null)
    placed = await make_order(app.services, app.clock, alex.user.id, Status.awaiting_shipment, store="Nova Electronics")
    _, data = await nova.get(f"/orders/{placed.number}", status=200)
    assert data["customer"] is None and data["status"] == "awaiting_shipment"
    await other.get(f"/orders/{placed.number}", status=404)
    status, _ = await nova.get("/orders/MINE-1")
    assert status == 200
    _, data = await nova.get("/orders/MINE-2", status=200)
    assert data["status"] == "waiting_for_customer"
    assert (await app.services.customers.order(other.id, "MINE-1")) is None
