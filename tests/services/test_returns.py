"""Returns: a dispute asking to send the item back. The store accepts with a return address, the
buyer sends the item back with a track number, the store confirms it came back and the buyer is
refunded — at once from loyalty level 3 (fast refunds); the sweeper closes a return whose day passed
(not sent back: no refund; not confirmed by the store: refunded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.db import outbox as outbox_repo
from bot.db import refunds as refunds_repo
from bot.runner import build_sweeper
from bot.services import loyalty
from bot.services.disputes import (
    DisputeMovedOn,
    DisputeNotFound,
    DisputeReason,
    NothingToSendBack,
    NotSentBackYet,
    Outcome,
    ProblemTooLate,
    ReasonTooShort,
    ReturnAddressRequired,
    SellerAnswer,
    SendBackTooLate,
    SentBackAlready,
    outcomes_for,
)
from bot.services.errors import InvalidInput, NotFound
from bot.services.orders import AlreadyDone, Status
from bot.services.track_numbers import BadTrackNumber
from tests.conftest import App
from tests.orderkit import ensure_user, make_order
from tests.services.test_disputes import draft, steps
from tests.services.test_seller_mode import link

ALEX, BOB, SELLER, OTHER_SELLER = 701, 702, 611, 612
STORE, OTHER_STORE = "Nova Electronics", "Blue Shoes"
ADDRESS = "Nova Electronics, returns desk, 1 Dock Road, Riga LV-1010"


async def news(app: App, seller: int = SELLER) -> list[dict]:
    async with app.services.db.read() as conn:
        return [r.payload for r in await outbox_repo.for_user(conn, seller, "seller_news")]


async def returning(app: App, user: int = ALEX) -> tuple[int, int]:
    """A shipped order of STORE with a return dispute the store accepted: (order id, dispute id)."""
    order = await make_order(app.services, app.clock, user, Status.shipped, store=STORE)
    dispute = await app.services.disputes.open(user, order.id, draft(Outcome.return_refund,
                                                                      reason=DisputeReason.wrong_item))
    await app.services.disputes.seller_answer(dispute.id, SellerAnswer.accept, note=ADDRESS)
    return order.id, dispute.id


@pytest.fixture(autouse=True)
async def sellers(app: App) -> None:
    await link(app, STORE, SELLER)
    await link(app, OTHER_STORE, OTHER_SELLER)


@pytest.fixture
def level(monkeypatch):
    levels: dict[int, int] = {}

    async def level_of(conn, user_id):
        return levels.get(user_id, 1)

    monkeypatch.setattr(loyalty, "level_of", level_of)
    return levels


async def test_accepting_a_return_asks_where_to_and_waits_for_the_item(app: App, level) -> None:
    disputes = app.services.disputes
    order = await make_order(app.services, app.clock, ALEX, Status.shipped, store=STORE)
    await app.services.settings.set_time_zone(ALEX, "Asia/Vladivostok")  # 10 hours ahead of UTC
    dispute = await disputes.open(ALEX, order.id, draft(Outcome.return_refund, reason=DisputeReason.wrong_item))
    for note in (None, "", "  short  "):
        with pytest.raises(ReturnAddressRequired):
            await disputes.seller_answer(dispute.id, SellerAnswer.accept, note=note)
    accepted = await disputes.seller_answer(dispute.id, SellerAnswer.accept, note=f"  {ADDRESS}\n")
    assert (accepted.state, accepted.seller_answer, accepted.seller_note) == ("returning", "accept", ADDRESS)
    # by the end of the buyer's day ten days on: 22:05 on 26 Nov in Vladivostok → all of 6 Dec there
    assert app.clock.now() == datetime(2026, 11, 26, 12, 5, tzinfo=UTC)
    assert accepted.return_by == datetime(2026, 12, 6, 23, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Vladivostok"))
    assert accepted.returned_at is None
    card = await disputes.card(ALEX, dispute.id)
    assert card.can_send_back and not card.can_answer and not card.fast_refund and card.receive_by is None
    assert card.order_status == "in_dispute" and card.refunds == ()  # no money before the item is back
    async with app.services.db.read() as conn:  # a kind of its own: the buyer must act, never toggled off
        (push,) = [r.payload for r in await outbox_repo.for_user(conn, ALEX, "dispute_return")]
    assert push["step"] == "return_accepted"
    assert push["seller_note"] == ADDRESS and push["return_by"] == accepted.return_by.isoformat()
    with pytest.raises(DisputeMovedOn):  # answered: no second answer, no escalation
        await disputes.seller_answer(dispute.id, SellerAnswer.reject, note="Changed our mind")
    with pytest.raises(DisputeMovedOn):
        await disputes.escalate(ALEX, dispute.id)


async def test_sent_back_then_the_store_confirms_and_the_buyer_is_refunded(app: App, level) -> None:
    disputes = app.services.disputes
    _, dispute_id = await returning(app)
    app.clock.advance(days=2)
    with pytest.raises(BadTrackNumber):
        await disputes.send_back(ALEX, dispute_id, "not a track!")
    await ensure_user(app.services, BOB)
    with pytest.raises(DisputeNotFound):  # another buyer's dispute
        await disputes.send_back(BOB, dispute_id, "RR123456789LV")
    card = await disputes.send_back(ALEX, dispute_id, " rr 1234 56789lv ")
    sent_at = app.clock.now()
    assert (card.dispute.state, card.dispute.return_track, card.dispute.returned_at) == (
        "returning", "RR123456789LV", sent_at)
    assert card.receive_by == sent_at + timedelta(days=15) and not card.can_send_back and card.refunds == ()
    with pytest.raises(SentBackAlready):
        await disputes.send_back(ALEX, dispute_id, "RR000000000LV")
    told = (await news(app))[-1]
    assert (told["news"], told["id"], told["track"], told["refunded"]) == ("sent_back", dispute_id, "RR123456789LV",
                                                                           False)
    assert told["receive_by"] == card.receive_by.isoformat()
    with pytest.raises(DisputeNotFound):  # another store's seller
        await disputes.return_received(dispute_id, seller_id=OTHER_SELLER)
    app.clock.advance(days=4)
    closed = await disputes.return_received(dispute_id, seller_id=SELLER)
    assert (closed.state, closed.resolution, closed.refund_minor) == ("closed", "refunded_full", closed.amount_minor)
    card = await disputes.card(ALEX, dispute_id)
    assert card.order_status == "closed"
    assert [(r.amount_minor, r.reason, r.dispute_id) for r in card.refunds] == [(closed.amount_minor, "dispute",
                                                                                dispute_id)]
    assert (await steps(app))[-1] == "closed"
    assert [n["news"] for n in await news(app)].count("dispute_closed") == 0  # the store did it itself
    with pytest.raises(AlreadyDone):
        await disputes.return_received(dispute_id)


async def test_a_return_refunded_in_full_by_goodwill_closes_as_refunded_not_rejected(app: App, level) -> None:
    """The store refunded the whole order (goodwill) while the item travelled back: confirming it
    came back pays nothing more, and the buyer is told it closed refunded in full, not rejected."""
    disputes = app.services.disputes
    order_id, dispute_id = await returning(app)
    await disputes.send_back(ALEX, dispute_id, "RR123456789LV")
    goodwill = await app.services.orders.refund(ALEX, order_id)
    dispute = await app.services.seller_mode.dispute(SELLER, dispute_id)
    assert dispute.accept_minor == 0 and dispute.order_refunded_minor == goodwill.amount_minor
    closed = await disputes.return_received(dispute_id, seller_id=SELLER)
    assert (closed.state, closed.resolution, closed.refund_minor) == ("closed", "refunded_full", 0)
    async with app.services.db.read() as conn:
        assert [r.amount_minor for r in await refunds_repo.for_order(conn, order_id)] == [goodwill.amount_minor]
        (push,) = [r.payload for r in await outbox_repo.for_user(conn, ALEX, "dispute")
                   if r.payload.get("state") == "closed"]
    assert (push["resolution"], push["refund_minor"]) == ("refunded_full", 0)


async def test_from_level_3_the_refund_is_made_when_the_item_is_sent_back(app: App, level) -> None:
    level[ALEX] = 3
    disputes = app.services.disputes
    order_id, dispute_id = await returning(app)
    card = await disputes.card(ALEX, dispute_id)
    assert card.fast_refund and card.can_send_back
    app.clock.advance(days=1)
    card = await disputes.send_back(ALEX, dispute_id, "RR123456789LV")
    # refunded now; the return stays open for the store to confirm it came back (or say it did not)
    assert (card.dispute.state, card.dispute.resolution, card.dispute.return_track) == (
        "returning", None, "RR123456789LV")
    assert card.refunded_on_sending and not card.can_send_back
    async with app.services.db.read() as conn:
        (refund,) = await refunds_repo.for_order(conn, order_id)
    assert (refund.amount_minor, refund.dispute_id) == (card.dispute.amount_minor, dispute_id)
    told = [n for n in await news(app) if n["news"] in ("sent_back", "dispute_closed")]
    assert [(n["news"], n["refunded"]) for n in told] == [("sent_back", True)]
    assert (await app.services.seller_mode.dispute(SELLER, dispute_id)).accept_minor == 0  # nothing more to pay
    closed = await disputes.return_received(dispute_id, seller_id=SELLER)  # it came back: closes, no 2nd refund
    assert (closed.state, closed.resolution, closed.refund_minor) == ("closed", "refunded_full",
                                                                      card.dispute.amount_minor)
    async with app.services.db.read() as conn:
        assert len(await refunds_repo.for_order(conn, order_id)) == 1


async def test_a_fast_refunded_return_the_store_says_did_not_come_back_goes_to_the_platform(app: App,
                                                                                           level) -> None:
    """The recourse a fast refund lacked: the store may still say nothing (or something else) came
    back; the platform decides — and what the fast refund paid is never taken back from the buyer."""
    level[ALEX] = 3
    disputes = app.services.disputes
    order_id, dispute_id = await returning(app)
    await disputes.send_back(ALEX, dispute_id, "RR123456789LV")
    mode = await app.services.seller_mode.dispute(SELLER, dispute_id)
    assert mode.accept_minor == 0 and mode.can_report_problem  # refunded already: nothing more to pay
    problem = await disputes.return_problem(dispute_id, "The parcel held a brick.", seller_id=SELLER)
    assert problem.state == "escalated"
    decided = await disputes.decide(dispute_id, 0)  # the platform sides with the store
    assert (decided.state, decided.refund_minor) == ("closed", mode.amount_minor)
    async with app.services.db.read() as conn:
        assert [r.amount_minor for r in await refunds_repo.for_order(conn, order_id)] == [mode.amount_minor]


async def test_a_fast_refunded_return_the_store_never_confirms_closes_with_nothing_more(app: App, level) -> None:
    level[ALEX] = 3
    _, dispute_id = await returning(app)
    await app.services.disputes.send_back(ALEX, dispute_id, "RR123456789LV")
    app.clock.advance(days=16)
    assert await app.services.disputes.close_overdue(app.clock.now()) == 1
    card = await app.services.disputes.card(ALEX, dispute_id)
    assert (card.dispute.state, card.dispute.resolution) == ("closed", "refunded_full")
    assert [r.amount_minor for r in card.refunds] == [card.dispute.amount_minor]  # the one refund
    assert (await steps(app))[-1] == "closed"  # not "the store did not confirm, so you are refunded": it was


async def test_a_return_not_sent_back_in_time_closes_without_a_refund(app: App, level) -> None:
    disputes = app.services.disputes
    _, dispute_id = await returning(app)
    sweeper = build_sweeper(app.services)
    app.clock.advance(days=10)  # the day to send it by, at the time it was accepted: the day is not over
    assert (await sweeper(app.clock.now()))["disputes_overdue"] == 0
    assert (await disputes.card(ALEX, dispute_id)).can_send_back
    app.clock.advance(hours=12)  # the next day (UTC, the test buyer's zone)
    with pytest.raises(SendBackTooLate):
        await disputes.send_back(ALEX, dispute_id, "RR123456789LV")
    assert (await sweeper(app.clock.now()))["disputes_overdue"] == 1
    card = await disputes.card(ALEX, dispute_id)
    assert (card.dispute.state, card.dispute.resolution, card.dispute.refund_minor) == ("closed", "not_returned", 0)
    assert card.refunds == () and card.order_status == "closed"
    assert (await steps(app))[-1] == "closed"
    assert (await news(app))[-1]["by"] == "not_sent"
    assert (await sweeper(app.clock.now()))["disputes_overdue"] == 0  # once


async def test_a_return_the_store_does_not_confirm_is_refunded_when_its_days_pass(app: App, level) -> None:
    disputes = app.services.disputes
    _, dispute_id = await returning(app)
    app.clock.advance(days=3)
    await disputes.send_back(ALEX, dispute_id, "RR123456789LV")
    sweeper = build_sweeper(app.services)
    app.clock.advance(days=14)  # past return_by, but sent in time: waits for the store
    assert (await sweeper(app.clock.now()))["disputes_overdue"] == 0
    app.clock.advance(days=1)
    assert (await sweeper(app.clock.now()))["disputes_overdue"] == 1
    card = await disputes.card(ALEX, dispute_id)
    assert (card.dispute.state, card.dispute.resolution) == ("closed", "refunded_full")
    assert [r.amount_minor for r in card.refunds] == [card.dispute.amount_minor]
    assert (await steps(app))[-1] == "return_unconfirmed"
    assert (await news(app))[-1]["by"] == "unconfirmed"


async def test_the_platform_may_decide_a_return_and_seller_mode_confirms_its_own(app: App, level) -> None:
    disputes, mode = app.services.disputes, app.services.seller_mode
    _, decided = await returning(app)
    closed = await disputes.decide(decided, 500)
    assert (closed.state, closed.resolution, closed.refund_minor) == ("closed", "refunded_partial", 500)
    _, dispute_id = await returning(app)
    seen = await mode.dispute(SELLER, dispute_id)
    assert seen.is_return and seen.can_confirm_return and not seen.can_answer
    assert [d.id for d in (await mode.disputes(SELLER)).rows] == [dispute_id]  # the store's to receive
    with pytest.raises(NotFound):
        await mode.return_received(OTHER_SELLER, dispute_id)
    done = await mode.return_received(SELLER, dispute_id)
    assert (done.state, done.resolution) == ("closed", "refunded_full") and not done.can_confirm_return
    assert (await mode.disputes(SELLER)).total == 0


async def test_no_return_of_an_item_that_never_came_and_the_addresses_limits(app: App, level) -> None:
    disputes = app.services.disputes
    order = await make_order(app.services, app.clock, ALEX, Status.shipped, store=STORE)
    with pytest.raises(NothingToSendBack):
        await disputes.open(ALEX, order.id, draft(Outcome.return_refund, reason=DisputeReason.not_received))
    assert outcomes_for(DisputeReason.not_received) == (Outcome.full_refund, Outcome.partial_refund)
    assert Outcome.return_refund in outcomes_for(DisputeReason.damaged)
    dispute = await disputes.open(ALEX, order.id, draft(Outcome.return_refund, reason=DisputeReason.damaged))
    with pytest.raises(InvalidInput) as long:
        await disputes.seller_answer(dispute.id, SellerAnswer.accept, note="x" * 1001)
    assert long.value.params == {"max": 1000, "length": 1001}  # said, not cut short
    await disputes.seller_answer(dispute.id, SellerAnswer.accept, note="y" * 1000)
    await disputes.decide(dispute.id, 0)
    with pytest.raises(AlreadyDone):  # closed: said so, whatever is typed
        await disputes.send_back(ALEX, dispute.id, "not a track!")


async def test_a_return_that_did_not_come_back_as_sent_goes_to_the_platform(app: App, level) -> None:
    """The store says what came back (or that nothing did): the return waits for the platform, the
    sweeper no longer refunds it when the store's days pass, and /ops lists it."""
    disputes = app.services.disputes
    _, dispute_id = await returning(app)
    with pytest.raises(NotSentBackYet):  # nothing to say before the buyer sends it
        await disputes.return_problem(dispute_id, "No parcel came.", seller_id=SELLER)
    await disputes.send_back(ALEX, dispute_id, "RR123456789LV")
    with pytest.raises(DisputeNotFound):
        await disputes.return_problem(dispute_id, "No parcel came.", seller_id=OTHER_SELLER)
    with pytest.raises(ReasonTooShort):
        await disputes.return_problem(dispute_id, "no", seller_id=SELLER)
    app.clock.advance(days=2)
    problem = await disputes.return_problem(dispute_id, "  The parcel held a brick, not the lamp.  ", seller_id=SELLER)
    assert (problem.state, problem.return_problem) == ("escalated", "The parcel held a brick, not the lamp.")
    assert problem.decide_by == app.clock.now() + timedelta(days=10)  # the platform's day, from now
    assert (await steps(app))[-1] == "return_problem"
    with pytest.raises(DisputeMovedOn):  # escalated: the store's confirmation is not the way any more
        await disputes.return_received(dispute_id, seller_id=SELLER)
    app.clock.advance(days=30)
    assert (await build_sweeper(app.services)(app.clock.now()))["disputes_overdue"] == 0  # no refund by itself
    total, lines = await disputes.escalated(10)
    assert total == 1 and lines[0].number == (await disputes.card(ALEX, dispute_id)).number
    assert (lines[0].return_track, lines[0].return_problem) == ("RR123456789LV", "The parcel held a brick, not the lamp.")
    closed = await disputes.decide(dispute_id, 0)
    assert (closed.state, closed.resolution) == ("closed", "rejected")


async def test_the_store_sees_the_buyers_loyalty_level_and_nothing_else_of_them(app: App) -> None:
    """Sellers can tell by the rating whether a conscientious buyer is on the other side (the
    article): seller mode's dispute, order and review screens carry the buyer's level."""
    from tests.services.test_loyalty import credit

    mode = app.services.seller_mode
    _, dispute_id = await returning(app)
    assert (await mode.dispute(SELLER, dispute_id)).buyer_level == 1
    await credit(app, ALEX, 450, "earned")  # 400 points: level 3
    assert (await mode.dispute(SELLER, dispute_id)).buyer_level == 3
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment, store=STORE)
    assert (await mode.order(SELLER, order.id)).buyer_level == 3
    completed = await make_order(app.services, app.clock, ALEX, Status.completed, store=STORE)
    targets = (await app.services.reviews.order_targets(ALEX, completed.id)).targets
    review = (await app.services.reviews.publish(ALEX, targets[0].item.item_id, rating=4, text="Fine")).card.review
    assert (await mode.review(SELLER, review.id)).buyer_level == 3
    await app.services.reviews.add_extra(ALEX, review.id, rating=2)  # the store sees the stars change too
    assert (await mode.review(SELLER, review.id)).extra_rating == 2
    from bot.views.common import Fmt
    from bot.views.seller import review_screen

    screen = review_screen(await mode.review(SELLER, review.id), Fmt(app.services.i18n, "en"))
    assert "Stars changed: ★★★★☆ → ★★☆☆☆" in screen.text


async def test_the_store_cant_report_a_problem_once_its_days_to_confirm_are_over(app: App, level) -> None:
    """Past the day to confirm the buyer is refunded, as both were told — even when the sweeper has
    not run yet; a level-4 buyer's problem report gets the priority decision day."""
    disputes, mode = app.services.disputes, app.services.seller_mode
    _, late = await returning(app)
    await disputes.send_back(ALEX, late, "RR123456789LV")
    app.clock.advance(days=15)
    assert not (await mode.dispute(SELLER, late)).can_report_problem
    with pytest.raises(ProblemTooLate):
        await disputes.return_problem(late, "Nothing came.", seller_id=SELLER)
    assert (await build_sweeper(app.services)(app.clock.now()))["disputes_overdue"] == 1
    assert (await disputes.card(ALEX, late)).dispute.resolution == "refunded_full"
    _, in_time = await returning(app)
    await disputes.send_back(ALEX, in_time, "RR123456789LV")
    level[ALEX] = 4  # level 4 by the time the store reports: the platform's day is the priority one
    assert (await mode.dispute(SELLER, in_time)).can_report_problem
    problem = await disputes.return_problem(in_time, "Nothing came.", seller_id=SELLER)
    assert problem.priority and problem.decide_by == app.clock.now() + timedelta(days=5)
