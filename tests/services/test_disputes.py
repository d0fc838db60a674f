"""Disputes from open to decision, priority from level 4, and the buyer's draft rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db import outbox as outbox_repo
from bot.db import refunds as refunds_repo
from bot.runner import build_sweeper
from bot.services import loyalty
from bot.services.disputes import (
    AnswerTooLate,
    DisputeDraft,
    DisputeMovedOn,
    DisputeNotFound,
    DisputeReason,
    DisputeService,
    Outcome,
    ReasonTooShort,
    SellerAnswer,
    clean_description,
)
from bot.services.errors import InvalidInput
from bot.services.orders import AlreadyDone, ForbiddenTransition, OrderService, Status
from tests.conftest import App
from tests.orderkit import ensure_user, make_order

ALEX, BOB = 701, 702


def draft(outcome: Outcome = Outcome.full_refund, amount: int | None = None, **kw) -> DisputeDraft:
    return DisputeDraft(kw.pop("reason", DisputeReason.not_as_described),
                        kw.pop("description", "The colour is not what the photos show."), outcome, amount,
                        kw.pop("photos", ()))


async def steps(app: App, user: int = ALEX) -> list[str]:
    async with app.services.db.read() as conn:
        return [r.payload["step"] for r in await outbox_repo.for_user(conn, user, "dispute")]


async def test_offer_accepted_refunds_part_and_closes(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    disputes = app.services.disputes
    dispute = await disputes.open(ALEX, order.id, draft(Outcome.partial_refund, 1000, photos=("p1", "p2", "p1")))
    assert (dispute.state, dispute.amount_minor, dispute.photos, dispute.priority) == ("open", 1000, ("p1", "p2"), False)
    assert dispute.decide_by == app.clock.now() + timedelta(days=10)
    assert (await app.services.orders.by_number(order.number)).status == "in_dispute"
    app.clock.advance(days=1)
    answered = await disputes.seller_answer(dispute.id, SellerAnswer.offer, offer_minor=600, note="<b>Sorry</b>")
    assert (answered.state, answered.offer_minor, answered.seller_note) == ("answered", 600, "<b>Sorry</b>")
    card = await disputes.accept_answer(ALEX, dispute.id)
    assert (card.dispute.state, card.dispute.resolution, card.dispute.refund_minor) == ("closed", "refunded_partial", 600)
    assert card.order_status == "closed"
    assert [(r.amount_minor, r.reason, r.dispute_id) for r in card.refunds] == [(600, "dispute", dispute.id)]
    with pytest.raises(AlreadyDone):
        await disputes.accept_answer(ALEX, dispute.id)  # a double tap
    assert await steps(app) == ["opened", "seller_offered", "closed"]


async def test_rejected_then_escalated_then_decided_in_full(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.completed)
    disputes = app.services.disputes
    dispute = await disputes.open(ALEX, order.id, draft(Outcome.return_refund, reason=DisputeReason.damaged))
    assert dispute.amount_minor == order.total_minor
    with pytest.raises(DisputeMovedOn):
        await disputes.escalate(ALEX, dispute.id)  # nothing to escalate before the seller answers
    await disputes.seller_answer(dispute.id, SellerAnswer.reject, note="Looks fine to us")
    with pytest.raises(DisputeMovedOn):
        await disputes.seller_answer(dispute.id, SellerAnswer.accept)  # the seller answered already
    card = await disputes.escalate(ALEX, dispute.id)
    assert card.dispute.state == "escalated" and not card.can_answer
    with pytest.raises(DisputeMovedOn):
        await disputes.accept_answer(ALEX, dispute.id)
    with pytest.raises(InvalidInput):
        await disputes.decide(dispute.id, order.total_minor + 1)
    closed = await disputes.decide(dispute.id, order.total_minor)
    assert (closed.state, closed.resolution) == ("closed", "refunded_full")
    with pytest.raises(AlreadyDone):
        await disputes.decide(dispute.id, 0)
    assert await steps(app) == ["opened", "seller_rejected", "escalated", "closed"]
    async with app.services.db.read() as conn:
        statuses = [r.payload["status"] for r in await outbox_repo.for_user(conn, ALEX, "order_status")]
    assert statuses[-2:] == ["in_dispute", "closed"]


async def test_seller_accepts_and_buyer_accepts_a_rejection(app: App) -> None:
    disputes = app.services.disputes
    first = await make_order(app.services, app.clock, ALEX, Status.shipped)
    d1 = await disputes.open(ALEX, first.id, draft(Outcome.partial_refund, 700))
    closed = await disputes.seller_answer(d1.id, SellerAnswer.accept)
    assert (closed.state, closed.resolution, closed.refund_minor) == ("closed", "refunded_partial", 700)
    second = await make_order(app.services, app.clock, ALEX, Status.shipped)
    d2 = await disputes.open(ALEX, second.id, draft())
    with pytest.raises(ReasonTooShort):  # the buyer reads why it was rejected
        await disputes.seller_answer(d2.id, SellerAnswer.reject)
    await disputes.seller_answer(d2.id, SellerAnswer.reject, note="It works as described.")
    card = await disputes.accept_answer(ALEX, d2.id)
    assert (card.dispute.resolution, card.dispute.refund_minor, card.refunds) == ("rejected", 0, ())
    async with app.services.db.read() as conn:
        assert await refunds_repo.for_order(conn, second.id) == []


async def test_the_platform_can_reject_an_open_dispute(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    dispute = await app.services.disputes.open(ALEX, order.id, draft())
    closed = await app.services.disputes.decide(dispute.id, 0)
    assert closed.resolution == "rejected"
    assert (await app.services.orders.by_number(order.number)).status == "closed"


async def test_one_dispute_per_order_and_only_when_eligible(app: App) -> None:
    disputes = app.services.disputes
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    await disputes.open(ALEX, order.id, draft())
    with pytest.raises(AlreadyDone):
        await disputes.open(ALEX, order.id, draft())
    for status in (Status.awaiting_payment, Status.awaiting_shipment, Status.cancelled):
        other = await make_order(app.services, app.clock, ALEX, status)
        with pytest.raises(ForbiddenTransition):
            await disputes.start(ALEX, other.id)
    closed = await make_order(app.services, app.clock, ALEX, Status.closed)
    with pytest.raises(AlreadyDone) as info:
        await disputes.start(ALEX, closed.id)
    assert info.value.msgid == "The dispute on this order is already closed."


async def test_amounts_are_bounded_by_what_was_paid_and_not_refunded(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    await app.services.orders.refund(ALEX, order.id, 1000)
    start = await app.services.disputes.start(ALEX, order.id)
    assert start.max_refund_minor == order.total_minor - 1000
    with pytest.raises(InvalidInput):
        await app.services.disputes.open(ALEX, order.id, draft(Outcome.partial_refund, start.max_refund_minor + 1))
    with pytest.raises(InvalidInput):
        await app.services.disputes.open(ALEX, order.id, draft(Outcome.partial_refund, 0))
    dispute = await app.services.disputes.open(ALEX, order.id, draft(Outcome.full_refund))
    assert dispute.amount_minor == start.max_refund_minor
    with pytest.raises(InvalidInput):
        await app.services.disputes.seller_answer(dispute.id, SellerAnswer.offer, offer_minor=order.total_minor)


async def test_priority_disputes_from_level_4(app: App, monkeypatch) -> None:
    async def level_4(conn, user_id):
        return 4

    monkeypatch.setattr(loyalty, "level_of", level_4)
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    start = await app.services.disputes.start(ALEX, order.id)
    assert start.priority and start.decide_by == app.clock.now() + timedelta(days=5)
    dispute = await app.services.disputes.open(ALEX, order.id, draft())
    assert dispute.priority and dispute.decide_by == app.clock.now() + timedelta(days=5)


async def test_a_store_that_does_not_answer_by_the_decision_day_loses_the_dispute(app: App, monkeypatch) -> None:
    """The decision day holds: the sweeper decides an unanswered dispute for the buyer then, as asked
    — a level-4 buyer's after 5 days, another's after 10 — and leaves answered and escalated ones."""
    async def level_of(conn, user_id):
        return 4 if user_id == BOB else 1

    monkeypatch.setattr(loyalty, "level_of", level_of)
    disputes = app.services.disputes
    ignored = await disputes.open(ALEX, (await make_order(app.services, app.clock, ALEX, Status.shipped)).id,
                                  draft(Outcome.partial_refund, 1500))
    answered = await disputes.open(ALEX, (await make_order(app.services, app.clock, ALEX, Status.shipped)).id, draft())
    await disputes.seller_answer(answered.id, SellerAnswer.reject, note="Not so.")
    priority = await disputes.open(BOB, (await make_order(app.services, app.clock, BOB, Status.shipped)).id, draft())
    sweeper = build_sweeper(app.services)
    app.clock.advance(days=5)  # the priority dispute's day
    assert (await sweeper(app.clock.now()))["disputes_overdue"] == 1
    closed = await disputes.card(BOB, priority.id)
    assert (closed.dispute.state, closed.dispute.resolution) == ("closed", "refunded_full")
    assert closed.order_status == "closed" and [r.reason for r in closed.refunds] == ["dispute"]
    assert (await steps(app, BOB))[-1] == "overdue"
    assert (await disputes.card(ALEX, ignored.id)).dispute.state == "open"  # 10 days: not yet
    app.clock.advance(days=5)
    with pytest.raises(AnswerTooLate):  # the store's day has passed: too late to answer it
        await disputes.seller_answer(ignored.id, SellerAnswer.reject, note="Late.")
    assert (await sweeper(app.clock.now()))["disputes_overdue"] == 1
    card = await disputes.card(ALEX, ignored.id)
    assert (card.dispute.resolution, card.dispute.refund_minor) == ("refunded_partial", 1500)  # what was asked
    assert (await disputes.card(ALEX, answered.id)).dispute.state == "answered"  # the buyer's turn: untouched
    assert (await sweeper(app.clock.now()))["disputes_overdue"] == 0  # once


async def test_the_level_can_be_injected(app: App) -> None:
    async def level_of(conn, user_id):
        return 3 if user_id == ALEX else 1

    orders = OrderService(app.services.db, app.clock, app.services.orders.policy, level_of=level_of)
    disputes = DisputeService(app.services.db, app.clock, orders)
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    start = await disputes.start(ALEX, order.id)
    assert not start.priority  # level 3: faster refunds, not yet priority disputes
    dispute = await disputes.open(ALEX, order.id, draft())
    await disputes.seller_answer(dispute.id, SellerAnswer.accept)
    async with app.services.db.read() as conn:
        (refund,) = await refunds_repo.for_order(conn, order.id)
    assert refund.expected_at == app.clock.now() + timedelta(days=3)


async def test_someone_elses_dispute_is_not_found(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    dispute = await app.services.disputes.open(ALEX, order.id, draft())
    await ensure_user(app.services, BOB)
    for call in (app.services.disputes.card(BOB, dispute.id), app.services.disputes.escalate(BOB, dispute.id),
                 app.services.disputes.accept_answer(BOB, dispute.id)):
        with pytest.raises(DisputeNotFound):
            await call
    page = await app.services.disputes.page(BOB)
    assert page.total == 0


async def test_list_current_first(app: App) -> None:
    disputes = app.services.disputes
    closed_order = await make_order(app.services, app.clock, ALEX, Status.closed)
    open_order = await make_order(app.services, app.clock, ALEX, Status.in_dispute)
    page = await disputes.page(ALEX)
    assert (page.total, page.current) == (2, 1)
    assert [r.number for r in page.rows] == [open_order.number, closed_order.number]


def test_description_rules() -> None:
    assert clean_description("  Broken   \n\n screen  ") == "Broken\n\n screen"
    with pytest.raises(InvalidInput) as short:
        clean_description("too short")
    assert short.value.params == {"min": 10}
    with pytest.raises(InvalidInput) as long:
        clean_description("x" * 1001)
    assert long.value.params == {"max": 1000, "length": 1001}
    assert len(clean_description("я" * 1000)) == 1000


def test_no_partial_refund_is_offered_when_one_cent_is_all_that_is_left() -> None:
    """A part of what is left must be more than zero and less than all of it: with one cent left
    there is none, so only the whole is offered (it was offered and then refused whatever was typed)."""
    from bot.services.disputes import outcomes_for

    assert Outcome.partial_refund not in outcomes_for(DisputeReason.damaged, 1)
    assert Outcome.partial_refund not in outcomes_for(DisputeReason.not_received, 1)
    assert Outcome.partial_refund in outcomes_for(DisputeReason.damaged, 2)
    assert outcomes_for(DisputeReason.damaged) == tuple(Outcome)  # not known: everything the reason allows
