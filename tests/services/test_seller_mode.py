"""Seller mode's rules (issue 18), called directly on the fake clock: a seller sees only their own
stores' reviews, disputes and orders to ship — lists, counts, one item — and answers them through
the same services as the operator commands, which check the store again."""

from __future__ import annotations

import pytest

from bot.db import outbox as outbox_repo
from bot.services.disputes import DisputeNotFound, ReasonTooShort, SellerAnswer
from bot.services.errors import DomainError, InvalidInput, NotFound
from bot.services.orders import OrderNotFound, Status
from bot.services.reviews import ReviewAnsweredAlready, ReviewNotFound
from bot.services.seller import (
    PAGE_SIZE,
    NotASeller,
    OfferTooLarge,
    OrderShippedAlready,
    UnknownCarrier,
    check_offer,
)
from bot.services.track_numbers import BadTrackNumber, check_track
from tests.conftest import App
from tests.orderkit import ensure_user, make_order
from tests.services.test_disputes import draft

BUYER, SELLER_A, SELLER_B, NOBODY = 501, 601, 602, 603
A, B = "Nova Electronics", "Blue Shoes"


async def link(app: App, store: str, user_id: int) -> None:
    await ensure_user(app.services, user_id)
    store_id = await app.services.orders.ensure_store(store)
    invite = await app.services.sellers.invite(store_id)
    await app.services.sellers.redeem(invite.token, user_id)


async def reviewed(app: App, store: str, text: str = "Good sound") -> int:
    """A completed order of `store` with a review of its first item: the review's id."""
    order = await make_order(app.services, app.clock, BUYER, Status.completed, store=store)
    targets = (await app.services.reviews.order_targets(BUYER, order.id)).targets
    published = await app.services.reviews.publish(BUYER, targets[0].item.item_id, rating=4, text=text)
    return published.card.review.id


@pytest.fixture
async def stores(app: App) -> None:
    await ensure_user(app.services, NOBODY)
    await link(app, A, SELLER_A)
    await link(app, B, SELLER_B)


def test_track_numbers_offers_and_their_limits() -> None:
    assert check_track(" lp 1234-5678cn ") == "LP1234-5678CN"
    for bad in ("", "LP12", "X" * 41, "LP123_456", "ЛП123456", "LP123 456!", "no idea", "ABCDEF"):
        with pytest.raises(BadTrackNumber):
            check_track(bad)
    assert check_track("A1B2C") == "A1B2C" and check_track("9" * 40) == "9" * 40
    assert check_offer(1, 2) == 1
    with pytest.raises(InvalidInput):
        check_offer(0, 500)
    with pytest.raises(OfferTooLarge):
        check_offer(500, 500)


@pytest.mark.usefixtures("stores")
async def test_a_non_seller_is_told_so_everywhere(app: App) -> None:
    mode = app.services.seller_mode
    for call in (mode.home(NOBODY), mode.reviews(NOBODY), mode.review(NOBODY, 1), mode.disputes(NOBODY),
                 mode.dispute(NOBODY, 1), mode.orders(NOBODY), mode.order(NOBODY, 1),
                 mode.ship(NOBODY, 1, "LP123456789CN", "dhl")):
        with pytest.raises(NotASeller):
            await call
    assert (await app.services.users.get(NOBODY)).is_seller is False
    assert (await app.services.users.get(SELLER_A)).is_seller is True


@pytest.mark.usefixtures("stores")
async def test_reviews_to_answer_are_the_stores_own_newest_first(app: App) -> None:
    mode = app.services.seller_mode
    first = await reviewed(app, A, "first")
    app.clock.advance(hours=1)
    second = await reviewed(app, A, "second")
    other = await reviewed(app, B, "other store")
    page = await mode.reviews(SELLER_A)
    assert [r.id for r in page.rows] == [second, first] and page.total == 2
    assert (await mode.home(SELLER_A)).reviews == 2 and (await mode.home(SELLER_B)).reviews == 1
    with pytest.raises(NotFound):
        await mode.review(SELLER_A, other)
    with pytest.raises(NotFound):
        await mode.answer_review(SELLER_A, other, "Thanks!")
    # the service the operator command uses checks the store too
    with pytest.raises(ReviewNotFound):
        await app.services.reviews.seller_reply(other, "Thanks!", seller_id=SELLER_A)
    answered = await mode.answer_review(SELLER_A, first, "  Thank you!  ")
    assert answered.reply_text == "Thank you!" and answered.answered
    assert [r.id for r in (await mode.reviews(SELLER_A)).rows] == [second]
    card = await app.services.reviews.review(BUYER, first)
    assert card.review.reply_text == "Thank you!"
    async with app.services.db.read() as conn:
        assert [r.payload["review_id"] for r in await outbox_repo.for_user(conn, BUYER, "review_reply")] == [first]
    with pytest.raises(InvalidInput):
        await mode.answer_review(SELLER_A, second, "   ")
    # two sellers of the store answer at once: the second is told, and the first answer stays
    await link(app, A, SELLER_B)
    await mode.answer_review(SELLER_B, second, "Thanks from Kim")
    with pytest.raises(ReviewAnsweredAlready):
        await mode.answer_review(SELLER_A, second, "Thanks from Sam")
    assert (await app.services.reviews.review(BUYER, second)).review.reply_text == "Thanks from Kim"
    async with app.services.db.read() as conn:
        assert len(await outbox_repo.for_user(conn, BUYER, "review_reply")) == 2  # one push per answer
    changed = await app.services.reviews.seller_reply(second, "Thanks, Kim and Sam")  # the operator may change it
    assert changed.reply_text == "Thanks, Kim and Sam"


@pytest.mark.usefixtures("stores")
async def test_reviews_page_and_a_page_past_the_end(app: App) -> None:
    for n in range(PAGE_SIZE + 1):
        await reviewed(app, A, f"review {n}")
        app.clock.advance(minutes=1)
    page = await app.services.seller_mode.reviews(SELLER_A, 1)
    assert (page.page, page.pages, len(page.rows), page.first) == (1, 2, 1, PAGE_SIZE + 1)
    assert (await app.services.seller_mode.reviews(SELLER_A, 99)).page == 1


@pytest.mark.usefixtures("stores")
async def test_disputes_waiting_for_the_seller_and_the_answers(app: App) -> None:
    mode, disputes = app.services.seller_mode, app.services.disputes
    a1, a2, a3, b1 = [await make_order(app.services, app.clock, BUYER, Status.shipped, store=store)
                      for store in (A, A, A, B)]
    d1, d2, d3, db1 = [(await disputes.open(BUYER, o.id, draft())).id for o in (a1, a2, a3, b1)]  # due together
    page = await mode.disputes(SELLER_A)
    assert [d.id for d in page.rows] == [d1, d2, d3] and (await mode.home(SELLER_A)).disputes == 3
    dispute = await mode.dispute(SELLER_A, d1)
    assert dispute.can_answer and dispute.amount_minor == a1.total_minor and dispute.photos == 0
    for call in (mode.dispute(SELLER_A, db1), mode.answer_dispute(SELLER_A, db1, SellerAnswer.accept)):
        with pytest.raises(NotFound):
            await call
    with pytest.raises(DisputeNotFound):
        await disputes.seller_answer(db1, SellerAnswer.accept, seller_id=SELLER_A)
    # reject needs a reason; an offer is more than zero and less than what was asked
    with pytest.raises(ReasonTooShort):
        await mode.answer_dispute(SELLER_A, d1, SellerAnswer.reject, note="no")
    with pytest.raises(OfferTooLarge):
        await mode.answer_dispute(SELLER_A, d2, SellerAnswer.offer, offer_minor=dispute.amount_minor)
    rejected = await mode.answer_dispute(SELLER_A, d1, SellerAnswer.reject, note="The colour is as shown.")
    assert (rejected.state, rejected.seller_answer, rejected.seller_note) == ("answered", "reject",
                                                                             "The colour is as shown.")
    offered = await mode.answer_dispute(SELLER_A, d2, SellerAnswer.offer, offer_minor=500)
    assert (offered.state, offered.offer_minor) == ("answered", 500)
    accepted = await mode.answer_dispute(SELLER_A, d3, SellerAnswer.accept)
    assert (accepted.state, accepted.resolution) == ("closed", "refunded_full")
    assert (await mode.disputes(SELLER_A)).total == 0 and (await mode.disputes(SELLER_B)).total == 1
    with pytest.raises(DomainError):
        await mode.answer_dispute(SELLER_A, d1, SellerAnswer.accept)  # moved on
    async with app.services.db.read() as conn:
        steps = [r.payload["step"] for r in await outbox_repo.for_user(conn, BUYER, "dispute")]
    assert {"seller_rejected", "seller_offered", "closed"} <= set(steps)
    # an accept is told by its close (refunded in full), never by a push made while it was still open
    # (it read "waiting for the seller's answer" right after the seller answered)
    assert "seller_accepted" not in steps
    async with app.services.db.read() as conn:
        closed = [r.payload for r in await outbox_repo.for_user(conn, BUYER, "dispute")
                  if r.payload["dispute_id"] == d3]
    assert [(p["step"], p["state"], p["resolution"]) for p in closed] == [("opened", "open", None),
                                                                          ("closed", "closed", "refunded_full")]


@pytest.mark.usefixtures("stores")
async def test_after_a_goodwill_refund_accepting_refunds_what_is_left(app: App) -> None:
    mode = app.services.seller_mode
    order = await make_order(app.services, app.clock, BUYER, Status.in_dispute, store=A)
    dispute_id = (await app.services.disputes.for_order_number(order.number)).id
    await app.services.orders.refund(BUYER, order.id, 2000)  # the shop's goodwill refund, before the answer
    dispute = await mode.dispute(SELLER_A, dispute_id)
    left = order.total_minor - 2000
    assert dispute.amount_minor == order.total_minor and dispute.order_refunded_minor == 2000
    assert dispute.accept_minor == left and dispute.can_offer
    with pytest.raises(OfferTooLarge):  # less than what accepting refunds now, not than what was asked
        await mode.answer_dispute(SELLER_A, dispute_id, SellerAnswer.offer, offer_minor=left)
    accepted = await mode.answer_dispute(SELLER_A, dispute_id, SellerAnswer.accept)
    assert (accepted.state, accepted.refund_minor) == ("closed", left)
    card = await app.services.orders.card(BUYER, order.id)
    assert sum(r.amount_minor for r in card.refunds) == order.total_minor


@pytest.mark.usefixtures("stores")
async def test_orders_to_ship_oldest_first_and_shipping(app: App) -> None:
    mode = app.services.seller_mode
    first = await make_order(app.services, app.clock, BUYER, Status.awaiting_shipment, store=A)
    second = await make_order(app.services, app.clock, BUYER, Status.awaiting_shipment, store=A)
    await make_order(app.services, app.clock, BUYER, Status.awaiting_payment, store=A)  # not paid: not listed
    other = await make_order(app.services, app.clock, BUYER, Status.awaiting_shipment, store=B)
    page = await mode.orders(SELLER_A)
    assert [o.id for o in page.rows] == [first.id, second.id] and (await mode.home(SELLER_A)).orders == 2
    order = await mode.order(SELLER_A, first.id)
    assert order.can_ship and order.address.recipient == "Alex Doe" and order.address.phone == "+1 555 0100"
    assert [(i.title, i.quantity) for i in order.items] == [("Wireless earbuds TWS Pro 5", 1), ("USB-C cable 1 m", 2)]
    for call in (mode.order(SELLER_A, other.id), mode.ship(SELLER_A, other.id, "LP123456789CN", "dhl")):
        with pytest.raises(NotFound):
            await call
    with pytest.raises(OrderNotFound):
        await app.services.orders.ship(BUYER, other.id, "LP123456789CN", "dhl", seller_id=SELLER_A)
    with pytest.raises(BadTrackNumber):
        await mode.ship(SELLER_A, first.id, "LP1", "dhl")
    with pytest.raises(UnknownCarrier):
        await mode.ship(SELLER_A, first.id, "LP123456789CN", "pigeon")
    shipped = await mode.ship(SELLER_A, first.id, "lp123456789cn", "dhl")
    assert (shipped.status, shipped.track_number, shipped.carrier, shipped.can_ship) == (
        "shipped", "LP123456789CN", "dhl", False)
    assert (await app.services.orders.by_number(first.number)).status == "shipped"
    with pytest.raises(OrderShippedAlready):
        await mode.ship(SELLER_A, first.id, "LP123456789CN", "dhl")
    assert [o.id for o in (await mode.orders(SELLER_A)).rows] == [second.id]


@pytest.mark.usefixtures("stores")
async def test_an_unpaid_or_cancelled_order_and_its_address_are_not_the_sellers(app: App) -> None:
    mode = app.services.seller_mode
    unpaid = await make_order(app.services, app.clock, BUYER, Status.awaiting_payment, store=A)
    cancelled = await make_order(app.services, app.clock, BUYER, Status.awaiting_shipment, store=A)
    await app.services.orders.cancel(BUYER, cancelled.id, "changed_mind")
    shipped = await make_order(app.services, app.clock, BUYER, Status.shipped, store=A)
    for order_id in (unpaid.id, cancelled.id):
        for call in (mode.order(SELLER_A, order_id), mode.check_can_ship(SELLER_A, order_id),
                     mode.ship(SELLER_A, order_id, "LP123456789CN", "dhl")):
            with pytest.raises(NotFound):
                await call
    seen = await mode.order(SELLER_A, shipped.id)  # shipped: still theirs to look at, no more to ship
    assert not seen.can_ship and seen.address.recipient == "Alex Doe"


@pytest.mark.usefixtures("stores")
async def test_an_unlinked_seller_sees_nothing_more(app: App) -> None:
    order = await make_order(app.services, app.clock, BUYER, Status.awaiting_shipment, store=A)
    store_id = await app.services.orders.ensure_store(A)
    await app.services.sellers.remove_seller(store_id, SELLER_A)
    with pytest.raises(NotASeller):
        await app.services.seller_mode.order(SELLER_A, order.id)
    assert (await app.services.users.get(SELLER_A)).is_seller is False
