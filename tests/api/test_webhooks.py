"""Outgoing webhooks (issue 19): a buyer's cancel, confirmed receipt, dispute, review and message
reach the shop's URL as signed JSON (verified here as a shop would), retried with backoff, given up
after 12 tries and shown in /ops, sent again from there; a shop without a URL hears nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.cli import parse_args
from bot.cli.common import UsageError, perform
from bot.db import webhooks as repo
from bot.fakebot import Player
from bot.services.disputes import DisputeDraft, DisputeReason, Outcome
from bot.services.orders.states import CancelReason
from bot.services.relay.conversations import Kind, Outgoing
from bot.services.shops.webhooks import TRIES, BadWebhookUrl, WebhookDelivery, sign, signature_header, verify
from tests.api.conftest import Shop, linked, order_body, store
from tests.conftest import App


class Receiver:
    """The shop's end: an aiohttp server that keeps every request and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        app = web.Application()
        app.router.add_post("/hooks", self.handle)
        self.server = TestServer(app)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        return web.Response(status=self.status)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/hooks"))


@pytest.fixture
async def receiver() -> Any:
    r = Receiver()
    await r.server.start_server()
    yield r
    await r.server.close()


async def order(app: App, nova: Shop, store_id: int, number: str, *, ship: bool = False, paid: bool = True) -> int:
    await nova.post("/customers/c-1/orders", order_body(store_id, number=number), status=201)
    if paid or ship:
        await nova.post(f"/orders/{number}/status", {"status": "paid", "card": {"last4": "4242"}}, status=200)
    if ship:
        await nova.post(f"/orders/{number}/status", {"status": "shipped", "track_number": "LP123456789CN",
                                                      "carrier": "cainiao"}, status=200)
    return (await app.services.orders.by_number(number)).id


async def test_the_buyers_actions_reach_the_shop_signed(app: App, nova: Shop, alex: Player,
                                                        receiver: Receiver) -> None:
    await alex.send("/start")
    store_id = await store(nova)
    await linked(nova, alex, "c-1")
    hook = await app.services.webhooks.set("Nova", receiver.url)
    assert hook.secret and hook.secret.startswith("whsec_")
    buyer = alex.user.id
    first = await order(app, nova, store_id, "NOVA-1")
    await app.services.orders.cancel(buyer, first, CancelReason.changed_mind)
    second = await order(app, nova, store_id, "NOVA-2", ship=True)
    await app.services.disputes.open(buyer, second, DisputeDraft(DisputeReason.damaged, "The box was crushed",
                                                                 Outcome.full_refund))
    third = await order(app, nova, store_id, "NOVA-3", ship=True)
    await app.services.orders.confirm_receipt(buyer, third)
    item = app.sqlite("SELECT id FROM order_items WHERE order_id = ? ORDER BY id", (third,))[0][0]
    await app.services.reviews.publish(buyer, item, rating=5, text="Great sound")
    talk = await app.services.relay.open_for_order(buyer, third)
    await app.services.relay.send(buyer, talk.id, Outgoing(Kind.text, buyer, (1,), "Thank you! My card 4111 1111 "
                                                                                    "1111 1111"))
    assert await WebhookDelivery(app.services.db, app.clock)() == 6
    events = []
    for headers, body in receiver.requests:
        assert verify(hook.secret, headers["Kabinet-Signature"], body, app.clock.now())
        assert not verify("whsec_other", headers["Kabinet-Signature"], body, app.clock.now())
        assert not verify(hook.secret, headers["Kabinet-Signature"], body + b" ", app.clock.now())  # tampered
        later = app.clock.now() + timedelta(minutes=6)
        assert not verify(hook.secret, headers["Kabinet-Signature"], body, later)  # a replay, too late
        event = json.loads(body)
        assert headers["Kabinet-Event"] == event["type"] and headers["Kabinet-Delivery"] == event["id"]
        events.append(event)
    assert [e["type"] for e in events] == ["order.cancelled", "refund.created", "dispute.opened",
                                           "order.receipt_confirmed", "review.written", "message.sent"]
    cancelled, refund, dispute, confirmed, review, message = events
    assert refund["data"]["refund"] == {"id": refund["data"]["refund"]["id"], "amount_minor": 3799, "currency": "USD",
                                        "reason": "cancel", "dispute_id": None, "state": "pending", "pay_out": "shop"}
    assert cancelled["data"]["order"] == {"id": first, "number": "NOVA-1", "store_id": store_id,
                                          "status": "cancelled", "customer_id": "c-1"}
    assert cancelled["data"]["reason"] == "changed_mind"
    assert dispute["data"]["dispute"]["reason"] == "damaged" and dispute["data"]["order"]["number"] == "NOVA-2"
    assert confirmed["data"]["order"]["status"] == "completed"
    assert review["data"]["review"]["rating"] == 5 and review["data"]["review"]["text"] == "Great sound"
    assert message["data"]["order_number"] == "NOVA-3" and "4111" not in message["data"]["text"]  # masked
    # no Telegram id in what the shop is told (the events' own ids are random hex: left out, as they
    # may hold the same digits by chance)
    assert message["data"]["buyer"] != str(buyer) and str(buyer) not in json.dumps([e["data"] for e in events])
    assert await WebhookDelivery(app.services.db, app.clock)() == 0  # each once


async def test_what_its_sellers_do_in_the_bot_reaches_the_shop_and_not_what_it_did_itself(
        app: App, nova: Shop, alex: Player, receiver: Receiver) -> None:
    """Seller mode ships, answers disputes and reviews in the bot: the shop did not, so it is told
    (its records would drift otherwise); what the shop did through the API it is not told again."""
    await alex.send("/start")
    store_id = await store(nova)
    await linked(nova, alex, "c-1")
    await app.services.webhooks.set("Nova", receiver.url)
    bob = app.player(3003, first_name="Bob", language_code="en")
    await bob.send(f"/start s_{(await app.services.sellers.invite(store_id)).token}")
    seller, buyer = bob.user.id, alex.user.id
    to_ship = await order(app, nova, store_id, "NOVA-1")
    await app.services.seller_mode.ship(seller, to_ship, "LP123456789CN", "cainiao")
    disputed = await order(app, nova, store_id, "NOVA-2", ship=True)  # shipped by the shop: no event
    dispute = await app.services.disputes.open(buyer, disputed, DisputeDraft(
        DisputeReason.damaged, "The box was crushed", Outcome.full_refund))
    await app.services.seller_mode.answer_dispute(seller, dispute.id, "offer", offer_minor=500)
    reviewed = await order(app, nova, store_id, "NOVA-3", ship=True)
    await app.services.orders.confirm_receipt(buyer, reviewed)
    item = app.sqlite("SELECT id FROM order_items WHERE order_id = ? ORDER BY id", (reviewed,))[0][0]
    review = (await app.services.reviews.publish(buyer, item, rating=4)).card.review
    await app.services.seller_mode.answer_review(seller, review.id, "Thank you for the stars!")
    await app.services.reviews.seller_reply(review.id, "Thank you, from the shop")  # the shop's own (the API's)
    await WebhookDelivery(app.services.db, app.clock)()
    events = [json.loads(body) for _, body in receiver.requests]
    assert [e["type"] for e in events] == ["order.shipped", "dispute.opened", "dispute.answered",
                                           "order.receipt_confirmed", "review.written", "review.replied"]
    shipped, _, answered, _, _, replied = events
    assert shipped["data"]["order"]["number"] == "NOVA-1" and shipped["data"]["order"]["status"] == "shipped"
    assert (shipped["data"]["track_number"], shipped["data"]["carrier"]) == ("LP123456789CN", "cainiao")
    assert answered["data"]["dispute"] == {"id": dispute.id, "answer": "offer", "offer_minor": 500, "note": None}
    assert replied["data"]["review"] == {"id": review.id, "item_id": item, "reply": "Thank you for the stars!"}
    assert str(seller) not in json.dumps([e["data"] for e in events])  # nor the seller's Telegram id


async def test_failures_retry_with_backoff_are_given_up_and_shown_in_ops(app: App, nova: Shop, alex: Player,
                                                                        other: Shop, receiver: Receiver) -> None:
    await alex.send("/start")
    store_id, quiet = await store(nova), await store(other, "Other Store")
    await linked(nova, alex, "c-1")
    await app.services.webhooks.set("Nova", receiver.url)
    receiver.status = 500
    first = await order(app, nova, store_id, "NOVA-1", paid=False)  # its cancel: one event
    await app.services.orders.cancel(alex.user.id, first, CancelReason.changed_mind)
    delivery = WebhookDelivery(app.services.db, app.clock)
    assert await delivery() == 0 and len(receiver.requests) == 1
    assert await delivery() == 0 and len(receiver.requests) == 1  # not due yet: 30 s later
    pauses = []
    for _ in range(TRIES - 1):
        due = app.sqlite("SELECT due_at FROM webhook_deliveries")[0][0]
        pauses.append(due)
        app.clock.advance(hours=1)
        await delivery()
    assert len(receiver.requests) == TRIES and len(set(pauses)) == TRIES - 1
    assert app.sqlite("SELECT state, attempts, last_error FROM webhook_deliveries") == [("failed", TRIES, "HTTP 500")]
    summary = await app.services.ops.summary()
    assert [(w.shop, w.failed, w.retrying) for w in summary.webhooks] == [("Nova", 1, 0)]
    # a store of a shop without a URL: the buyer's message queues nothing for it
    talk = await app.services.relay.open_for_store(alex.user.id, quiet)
    await app.services.relay.send(alex.user.id, talk.id, Outgoing(Kind.text, alex.user.id, (2,), "Hello?"))
    assert app.sqlite("SELECT count(*) FROM webhook_deliveries") == [(1,)]
    # sent again from /ops: the operator's button, through the Dispatcher
    app.settings = app.settings.model_copy(update={"admin_ids": (alex.user.id,)})
    await app.restart()  # (the old process's database closed: no connection thread outlives the test)
    delivery = WebhookDelivery(app.services.db, app.clock)
    await alex.send("/ops")
    assert "Webhooks of Nova: 0 being retried, 1 given up — HTTP 500" in alex.last_text
    receiver.status = 204
    await alex.press("Send the given-up webhooks again")
    assert "1 webhook goes out again." in alex.last_text
    assert await delivery() == 1 and len(receiver.requests) == TRIES + 1
    assert app.sqlite("SELECT state FROM webhook_deliveries") == [("sent",)]


async def test_a_delivery_leased_by_one_run_is_not_sent_by_another(app: App, nova: Shop, alex: Player) -> None:
    await alex.send("/start")
    store_id = await store(nova)
    await linked(nova, alex, "c-1")
    await app.services.webhooks.set("Nova", "https://shop.example/hooks")
    await app.services.orders.cancel(alex.user.id, await order(app, nova, store_id, "NOVA-1", paid=False),
                                     CancelReason.changed_mind)
    now = app.clock.now()
    async with app.services.db.write() as conn:
        assert len(await repo.claim(conn, now, now + timedelta(minutes=2), 10)) == 1
        assert await repo.claim(conn, now, now + timedelta(minutes=2), 10) == []  # held by the first
    async with app.services.db.write() as conn:
        assert len(await repo.claim(conn, now + timedelta(minutes=3), now + timedelta(minutes=5), 10)) == 1


async def test_signing_is_hmac_sha256_over_timestamp_and_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_x", b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest()
    assert sign("whsec_x", 1700000000, '{"a":1}') == expected
    assert signature_header("whsec_x", 1700000000, '{"a":1}') == f"t=1700000000,v1={expected}"


async def test_operators_set_and_turn_off_a_shops_webhook(app: App, nova: Shop) -> None:
    async def run(*argv: str) -> str:
        return await perform(parse_args(["shop", *argv]), app.services)

    out = await run("webhook", "Nova", "https://shop.example/hooks")
    assert "webhooks go to https://shop.example/hooks" in out and "signing secret" in out and "whsec_" in out
    assert app.sqlite("SELECT webhook_url FROM shops WHERE name = 'Nova'") == [("https://shop.example/hooks",)]
    assert await run("webhook", "Nova", "--off") == "shop Nova: webhooks off"
    assert app.sqlite("SELECT webhook_url, webhook_secret FROM shops WHERE name = 'Nova'") == [(None, None)]
    with pytest.raises(UsageError):
        await run("webhook", "Nova")
    with pytest.raises(BadWebhookUrl):
        await run("webhook", "Nova", "ftp://shop.example")
    assert await run("webhook-retry") == "0 webhook(s) go out again"


async def test_a_return_through_the_api_and_its_webhook(app: App, nova: Shop, other: Shop, alex: Player,
                                                        receiver: Receiver) -> None:
    """The shop accepts a return with the address in `note` (none: 422), hears when the buyer sends the
    item back (its track number), and says it came back: the buyer is refunded."""
    await alex.send("/start")
    store_id = await store(nova)
    await linked(nova, alex, "c-1")
    await app.services.webhooks.set("Nova", receiver.url)
    order_id = await order(app, nova, store_id, "NOVA-9", ship=True)
    dispute = await app.services.disputes.open(alex.user.id, order_id, DisputeDraft(
        DisputeReason.wrong_item, "A blue one came, I ordered black", Outcome.return_refund))
    await nova.post("/customers/c-1/orders", order_body(store_id, number="NOVA-10"), status=201)
    _, data = await nova.post("/orders/NOVA-10/dispute/answer", {"answer": "accept"}, status=404)
    assert data["error"]["message"] == "This order has no dispute."
    _, data = await nova.post("/orders/NOVA-9/dispute/return-received", None, status=409)  # not accepted yet
    assert (data["error"]["code"], data["error"]["message"]) == ("dispute_moved_on",
                                                                 "The dispute is open; this needs it returning.")
    _, data = await nova.post("/orders/NOVA-9/dispute/answer", {"answer": "accept"}, status=422)
    assert data["error"]["message"].startswith("To accept a return, give the buyer the address")
    _, data = await nova.post("/orders/NOVA-9/dispute/answer", {"answer": "accept", "note": "Nova returns, Riga LV-1010"},
                              status=200)
    assert data["state"] == "returning" and data["return_by"] and data["return_track"] is None
    await app.services.disputes.send_back(alex.user.id, dispute.id, "RR123456789LV")
    await WebhookDelivery(app.services.db, app.clock)()
    events = [json.loads(body) for _, body in receiver.requests]
    sent = [e for e in events if e["type"] == "dispute.return_sent"]
    assert [e["data"]["dispute"] for e in sent] == [{"id": dispute.id, "track": "RR123456789LV", "refunded": False}]
    assert sent[0]["data"]["order"]["number"] == "NOVA-9"
    _, data = await nova.post("/orders/NOVA-9/dispute/return-received", None, status=200)
    assert (data["state"], data["resolution"], data["return_track"]) == ("closed", "refunded_full", "RR123456789LV")
    _, data = await nova.post("/orders/NOVA-9/dispute/return-received", None, status=409)
    assert data["error"]["code"] == "already_done"
    await WebhookDelivery(app.services.db, app.clock)()
    events = [json.loads(body) for _, body in receiver.requests]
    (refund,) = [e["data"]["refund"] for e in events if e["type"] == "refund.created"]
    (closed,) = [e["data"]["dispute"] for e in events if e["type"] == "dispute.closed"]
    assert (refund["reason"], refund["dispute_id"], refund["pay_out"]) == ("dispute", dispute.id, "shop")
    assert closed == {"id": dispute.id, "resolution": "refunded_full", "refund_minor": refund["amount_minor"],
                      "closing": "plain"}
    assert {e["data"]["order"]["status"] for e in events if e["type"] in ("refund.created", "dispute.closed")} == {
        "closed"}  # the order as it is once the dispute closed
    # paid outside the gateway: the shop pays it back and says so; the buyer is told it is done
    _, order_now = await nova.get("/orders/NOVA-9", status=200)
    assert order_now["refunded_minor"] == refund["amount_minor"]
    assert [(r["id"], r["pay_out"], r["state"]) for r in order_now["refunds"]] == [(refund["id"], "shop", "pending")]
    _, done = await nova.post(f"/refunds/{refund['id']}/done", None, status=200)
    assert (done["state"], done["completed_at"] is not None) == ("completed", True)
    _, data = await nova.post(f"/refunds/{refund['id']}/done", None, status=409)
    assert data["error"]["code"] == "refund_already_completed"
    await other.post(f"/refunds/{refund['id']}/done", None, status=404)  # another shop's: no such refund
    assert alex.user.id in {r[0] for r in app.sqlite("SELECT user_id FROM outbox WHERE kind = 'refund' AND "
                                                      "payload LIKE '%completed%'")}


async def test_the_shop_says_a_return_did_not_come_back_as_sent(app: App, nova: Shop, alex: Player) -> None:
    await alex.send("/start")
    store_id = await store(nova)
    await linked(nova, alex, "c-1")
    order_id = await order(app, nova, store_id, "NOVA-10", ship=True)
    dispute = await app.services.disputes.open(alex.user.id, order_id, DisputeDraft(
        DisputeReason.wrong_item, "A blue one came, I ordered black", Outcome.return_refund))
    await nova.post("/orders/NOVA-10/dispute/answer", {"answer": "accept", "note": "Nova returns, Riga LV-1010"},
                    status=200)
    _, data = await nova.post("/orders/NOVA-10/dispute/return-problem", {"note": "No parcel came."}, status=409)
    assert data["error"]["message"] == "The buyer has not sent the item back yet."
    await app.services.disputes.send_back(alex.user.id, dispute.id, "RR123456789LV")
    _, data = await nova.post("/orders/NOVA-10/dispute/return-problem", {"note": "no"}, status=422)
    assert data["error"]["fields"][0]["field"] == "note"
    _, data = await nova.post("/orders/NOVA-10/dispute/return-problem", {"note": "The parcel was empty."}, status=200)
    assert data["state"] == "escalated" and data["return_track"] == "RR123456789LV"
    assert (await app.services.disputes.for_order_number("NOVA-10")).return_problem == "The parcel was empty."
