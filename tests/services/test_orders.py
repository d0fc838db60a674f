"""The order state machine and the buyer's, the shop's and the clock's actions, directly."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import product
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.db import disputes as disputes_repo
from bot.db import orders as orders_repo
from bot.db import outbox as outbox_repo
from bot.db import refunds as refunds_repo
from bot.integrations.carrier import CarrierEvent
from bot.runner import build_sweeper
from bot.services import loyalty
from bot.services.disputes import DisputeDraft, DisputeReason, Outcome
from bot.services.errors import DomainError, InvalidInput
from bot.services.orders import (
    DELETABLE,
    TRANSITIONS,
    Actor,
    AlreadyDone,
    CannotDelete,
    DisputeWindowClosed,
    ForbiddenTransition,
    NewItem,
    NotInBin,
    NoTracking,
    OrderInBin,
    OrderNotFound,
    OrderPolicy,
    OrderService,
    OrderTab,
    Status,
    check_transition,
    transition,
)
from bot.services.refunds import CardState
from tests.conftest import App
from tests.orderkit import CABLE, EARBUDS, EXPIRED_MC, VISA, ensure_user, make_order, place
from tests.services_kit import sqlite_only

ALEX, BOB = 501, 502


# -- the machine, exhaustively ----------------------------------------------------------------------
@pytest.mark.parametrize(("current", "target"), list(product(Status, Status)))
def test_every_transition_is_allowed_or_explained(current: Status, target: Status) -> None:
    if target in TRANSITIONS[current]:
        check_transition(current, target)
        return
    with pytest.raises(ForbiddenTransition) as info:
        check_transition(current, target)
    assert info.value.msgid and "{" not in info.value.msgid
    if current == target and target != Status.awaiting_payment:
        assert isinstance(info.value, AlreadyDone)


def test_the_graph() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == {
        (Status.awaiting_payment, Status.awaiting_shipment), (Status.awaiting_payment, Status.cancelled),
        (Status.awaiting_shipment, Status.shipped), (Status.awaiting_shipment, Status.cancelled),
        (Status.shipped, Status.completed), (Status.shipped, Status.in_dispute),
        (Status.completed, Status.in_dispute), (Status.in_dispute, Status.closed),
    }


ACTIONS = {
    # action → the status it leads to
    "pay": Status.awaiting_shipment,
    "ship": Status.shipped,
    "confirm": Status.completed,
    "cancel": Status.cancelled,
    "dispute": Status.in_dispute,
    "decide": Status.closed,
}


async def _act(app: App, action: str, user: int, order_id: int) -> None:
    s = app.services
    if action == "pay":
        await s.orders.mark_paid(user, order_id, VISA)
    elif action == "ship":
        await s.orders.ship(user, order_id, "LP1CN")
    elif action == "confirm":
        await s.orders.confirm_receipt(user, order_id)
    elif action == "cancel":
        await s.orders.cancel(user, order_id, "changed_mind")
    elif action == "dispute":
        await s.disputes.open(user, order_id, DisputeDraft(DisputeReason.damaged, "Broken screen on arrival",
                                                           Outcome.full_refund))
    elif action == "decide":
        async with s.db.read() as conn:
            dispute = await disputes_repo.for_order(conn, order_id)
        if dispute is not None:
            await s.disputes.decide(dispute.id, 0)
            return
        async with s.db.write() as conn:  # no dispute: the order-level transition is refused
            row = await orders_repo.get(conn, order_id)
            assert row is not None
            await transition(conn, row, Status.closed, actor=Actor.platform, now=app.clock.now())


async def test_every_action_in_every_status_through_the_database(app: App) -> None:
    """Each action on an order in each status: the allowed ones move it, the others raise a domain
    error and change nothing."""
    user = 600
    for status in Status:
        for action, target in ACTIONS.items():
            order = await make_order(app.services, app.clock, user, status)
            allowed = target in TRANSITIONS[status]
            if allowed:
                await _act(app, action, user, order.id)
                after = await app.services.orders.by_number(order.number)
                assert after.status == target, (status, action)
            else:
                with pytest.raises(DomainError):
                    await _act(app, action, user, order.id)
                after = await app.services.orders.by_number(order.number)
                assert after.status == status, (status, action)


# -- cancel, refunds, double taps --------------------------------------------------------------------
async def test_double_cancel_changes_state_once_and_refunds_once(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    card = await app.services.orders.cancel(ALEX, order.id, "changed_mind")
    assert card.status == Status.cancelled and card.order.cancel_reason == "changed_mind"
    with pytest.raises(AlreadyDone) as info:
        await app.services.orders.cancel(ALEX, order.id, "changed_mind")
    assert info.value.msgid == "This order is already cancelled."
    async with app.services.db.read() as conn:
        refunds = await refunds_repo.for_order(conn, order.id)
        pushes = await outbox_repo.for_user(conn, ALEX, "order_status")
        refund_pushes = await outbox_repo.for_user(conn, ALEX, "refund")
    assert [(r.amount_minor, r.destination, r.card_last4, r.reason) for r in refunds] == [
        (order.total_minor, "card", "4242", "cancel")
    ]
    assert refunds[0].expected_at == app.clock.now() + timedelta(days=10)
    assert [p.payload["status"] for p in pushes] == ["awaiting_shipment", "cancelled"]
    assert pushes[-1].payload["refund_minor"] == order.total_minor
    assert pushes[-1].dedupe_key == f"order:{order.id}:status:cancelled"
    assert [p.payload["step"] for p in refund_pushes] == ["issued"]


async def test_cancelling_an_unpaid_order_refunds_nothing(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_payment)
    preview = await app.services.orders.cancel_preview(ALEX, order.id)
    assert preview.refund is None
    await app.services.orders.cancel(ALEX, order.id, "found_cheaper")
    async with app.services.db.read() as conn:
        assert await refunds_repo.for_order(conn, order.id) == []


async def test_a_cancelled_unpaid_order_gives_its_coupons_back(app: App) -> None:
    """Checkout marks coupons used with the order number as their reference; cancelling the unpaid
    order (by the buyer, by deletion or by the payment timeout) gives them back in the same unit of work."""
    from tests.services.test_coupons import terms

    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_payment)
    now = app.clock.now()
    coupons = app.services.coupons
    granted = await coupons.grant([ALEX], terms(start=now - timedelta(days=1), end=now + timedelta(days=10)))
    coupon_id = granted.granted[ALEX]
    async with app.services.db.write() as conn:
        await coupons.use(conn, ALEX, [coupon_id], order.number)
    assert (await coupons.coupon(ALEX, coupon_id)).status == "used"
    await app.services.orders.cancel(ALEX, order.id, "found_cheaper")
    assert (await coupons.coupon(ALEX, coupon_id)).status == "active"


async def test_a_refund_to_an_expired_card_goes_to_its_bank_account(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment, card=EXPIRED_MC)
    preview = await app.services.orders.cancel_preview(ALEX, order.id)
    assert preview.refund is not None
    assert preview.refund.destination.to == "bank_account"
    assert preview.refund.destination.card_state == CardState.expired
    await app.services.orders.cancel(ALEX, order.id, "too_long")
    async with app.services.db.read() as conn:
        (refund,) = await refunds_repo.for_order(conn, order.id)
    assert (refund.destination, refund.card_state, refund.card_brand) == ("bank_account", "expired", "Mastercard")


async def test_the_cards_section_plugs_in_deleted_cards(app: App) -> None:
    class DeletedCards:
        async def card_state(self, conn, user_id, card, now):  # the cards section's lookup
            return CardState.deleted

    app.services.orders.cards = DeletedCards()
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    preview = await app.services.orders.cancel_preview(ALEX, order.id)
    assert preview.refund is not None and preview.refund.destination.to == "bank_account"
    assert preview.refund.destination.card_state == CardState.deleted


async def test_refunds_are_faster_from_level_3(app: App, monkeypatch) -> None:
    async def level_3(conn, user_id):
        return 3

    monkeypatch.setattr(loyalty, "level_of", level_3)
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    preview = await app.services.orders.cancel_preview(ALEX, order.id)
    assert preview.refund is not None and preview.refund.fast
    assert preview.refund.expected_at == app.clock.now() + timedelta(days=3)


async def test_a_seller_cancel_and_a_goodwill_refund(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    refund = await app.services.orders.refund(ALEX, order.id, 500)
    assert refund.amount_minor == 500 and refund.reason == "seller"
    with pytest.raises(InvalidInput):
        await app.services.orders.refund(ALEX, order.id, order.total_minor)  # more than is left
    await app.services.orders.refund(ALEX, order.id)  # the rest
    with pytest.raises(ForbiddenTransition):
        await app.services.orders.refund(ALEX, order.id, 1)
    other = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    card = await app.services.orders.cancel_by_seller(ALEX, other.id)
    assert card.order.cancel_reason == "out_of_stock"
    async with app.services.db.read() as conn:
        history = await orders_repo.history(conn, other.id)
    assert history[-1].actor == "seller"


async def test_refund_completion(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    await app.services.orders.cancel(ALEX, order.id, "other")
    async with app.services.db.read() as conn:
        (refund,) = await refunds_repo.for_order(conn, order.id)
    done = await app.services.refunds.complete(refund.id)
    assert done.state == "completed" and done.completed_at == app.clock.now()
    with pytest.raises(DomainError):
        await app.services.refunds.complete(refund.id)
    async with app.services.db.read() as conn:
        steps = [p.payload["step"] for p in await outbox_repo.for_user(conn, ALEX, "refund")]
    assert steps == ["issued", "completed"]


# -- confirm receipt, disputes window ---------------------------------------------------------------
async def test_confirm_receipt_once(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    card = await app.services.orders.confirm_receipt(ALEX, order.id)
    assert card.status == Status.completed and card.can_dispute
    assert card.dispute_until == app.clock.now() + timedelta(days=15)
    with pytest.raises(AlreadyDone) as info:
        await app.services.orders.confirm_receipt(ALEX, order.id)
    assert info.value.msgid == "You have already confirmed receipt of this order."


async def test_a_dispute_is_possible_within_15_days_of_completion(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.completed)
    app.clock.advance(days=14, hours=23)
    start = await app.services.disputes.start(ALEX, order.id)
    assert start.max_refund_minor == order.total_minor
    app.clock.advance(hours=1)
    with pytest.raises(DisputeWindowClosed) as info:
        await app.services.disputes.start(ALEX, order.id)
    assert info.value.params == {"days": 15}
    card = await app.services.orders.card(ALEX, order.id)
    assert not card.can_dispute


# -- the sweeper's due transitions --------------------------------------------------------------------
async def test_unpaid_orders_expire_after_24_hours(app: App) -> None:
    paid = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    unpaid = await make_order(app.services, app.clock, ALEX, Status.awaiting_payment)
    orders = app.services.orders
    assert await orders.expire_unpaid(app.clock.advance(hours=23, minutes=59)) == 0
    assert await orders.expire_unpaid(app.clock.advance(minutes=1)) == 1
    assert await orders.expire_unpaid(app.clock.advance(minutes=1)) == 0  # idempotent
    expired = await orders.by_number(unpaid.number)
    assert (expired.status, expired.cancel_reason) == ("cancelled", "payment_timeout")
    assert (await orders.by_number(paid.number)).status == "awaiting_shipment"
    async with app.services.db.read() as conn:
        rows = await outbox_repo.for_user(conn, ALEX, "order_status")
    last = rows[-1].payload
    assert (last["number"], last["status"], last["actor"], last["reason"]) == (
        unpaid.number, "cancelled", "system", "payment_timeout")
    # and paying it now is refused with a clear reason
    with pytest.raises(ForbiddenTransition) as info:
        await orders.mark_paid(ALEX, unpaid.id, VISA)
    assert info.value.msgid == "This order was cancelled and can no longer be paid."


async def test_the_unpaid_time_is_configurable(app: App) -> None:
    orders = OrderService(app.services.db, app.clock, OrderPolicy(unpaid_ttl=timedelta(hours=2)))
    await ensure_user(app.services, ALEX)
    store = await orders.ensure_store("S")
    order = await orders.create(user_id=ALEX, store_id=store, items=[NewItem("Thing", 1, 100)], currency="USD")
    assert order.pay_by == app.clock.now() + timedelta(hours=2)
    assert await orders.expire_unpaid(app.clock.advance(hours=2)) == 1


async def test_an_order_must_cost_something_and_its_usd_rate_be_a_currencys(app: App) -> None:
    """A rate counts the order's points: one far above any currency's (or another than 1 for US
    dollars) would give points no purchase earned; an order of 0 could never be paid by card."""
    orders = app.services.orders
    await ensure_user(app.services, ALEX)
    store = await orders.ensure_store("Nova Electronics")
    item = [NewItem("Thing", 1, 1000)]
    for currency, rate in (("EUR", "1e30"), ("EUR", "10.5"), ("EUR", "0"), ("EUR", "-1"), ("USD", "100"),
                           ("EUR", "0.0000000000001"), ("EUR", "NaN")):
        with pytest.raises(InvalidInput):
            await orders.create(user_id=ALEX, store_id=store, items=item, currency=currency, usd_rate=rate)
    with pytest.raises(InvalidInput, match="must cost something"):
        await orders.create(user_id=ALEX, store_id=store, items=[NewItem("Sticker", 1, 0)], currency="USD")
    kwd = await orders.create(user_id=ALEX, store_id=store, items=item, currency="KWD", usd_rate="3.26")
    usd = await orders.create(user_id=ALEX, store_id=store, items=item, currency="USD", usd_rate="1.00")
    free_item = await orders.create(user_id=ALEX, store_id=store, items=[NewItem("Sticker", 1, 0)], currency="USD",
                                    shipping_minor=300)
    assert (kwd.usd_rate, usd.usd_rate, free_item.total_minor) == ("3.26", "1", 300)
    # kept as a rate, not as typed: a float's 18 places rounded to 12, an exponent written out
    for typed, kept in (("0.010869565217391304", "0.010869565217"), ("1E+1", "10"), ("0.00000000000100", "0.000000000001")):
        order = await orders.create(user_id=ALEX, store_id=store, items=item, currency="EUR", usd_rate=typed)
        assert order.usd_rate == kept, typed


async def test_an_order_that_cant_complete_does_not_hold_back_the_others(app: App) -> None:
    """The sweeper completes due orders a batch a unit of work; one whose data breaks its move (a
    rate stored before rates were checked) is left, logged, and the others still complete."""
    orders = app.services.orders
    first = await make_order(app.services, app.clock, ALEX, Status.shipped)
    broken = await make_order(app.services, app.clock, ALEX, Status.shipped)
    last = await make_order(app.services, app.clock, ALEX, Status.shipped)
    async with app.services.db.write() as conn:  # its points would not fit any integer column
        await conn.execute(text("UPDATE orders SET usd_rate = '1e30' WHERE id = :id"), {"id": broken.id})
    app.clock.advance(days=61)
    assert await orders.auto_complete(app.clock.now()) == 2
    assert [(await orders.by_number(o.number)).status for o in (first, broken, last)] == [
        "completed", "shipped", "completed"]
    assert await orders.auto_complete(app.clock.now()) == 0  # the broken one is tried again, alone



async def test_broken_orders_at_the_head_of_the_queue_do_not_stop_those_behind(app: App, monkeypatch) -> None:
    """More broken orders than a batch, oldest first: the run passes over them and completes the
    rest; the database failing is raised, not taken for a broken order."""
    from sqlalchemy.exc import OperationalError

    from bot.services.orders import sweeper

    orders = app.services.orders
    made = [await make_order(app.services, app.clock, ALEX, Status.shipped) for _ in range(5)]
    async with app.services.db.write() as conn:
        for broken in made[:3]:
            await conn.execute(text("UPDATE orders SET usd_rate = '1e30' WHERE id = :id"), {"id": broken.id})
    app.clock.advance(days=61)
    assert await orders.auto_complete(app.clock.now(), batch=2) == 2
    assert [(await orders.by_number(o.number)).status for o in made] == ["shipped"] * 3 + ["completed"] * 2

    async def database_gone(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE orders …", {}, Exception("database is locked"))

    monkeypatch.setattr(sweeper, "transition", database_gone)
    with pytest.raises(OperationalError):
        await orders.auto_complete(app.clock.now())


async def test_shipped_orders_complete_when_protection_ends_unless_disputed(app: App) -> None:
    quiet = await make_order(app.services, app.clock, ALEX, Status.shipped)
    orders = app.services.orders
    assert quiet.protection_ends_at == quiet.shipped_at + timedelta(days=60)
    assert (await orders.card(ALEX, quiet.id)).protection_days_left(UTC) == 60
    disputed = await make_order(app.services, app.clock, ALEX, Status.in_dispute)  # takes 11 days
    assert (await orders.card(ALEX, quiet.id)).protection_days_left(UTC) == 49
    # counted as a person counts from the date shown: calendar days in the buyer's zone, not hours / 24
    ends = quiet.protection_ends_at
    early = datetime.combine(ends.date() - timedelta(days=15), time(0, 1), tzinfo=UTC)
    for now, zone_name, left in ((early, "UTC", 15), (early, "America/New_York", 16),  # still the day before there
                                 (datetime.combine(ends.date(), time(0, 0), tzinfo=UTC), "UTC", 0)):
        app.clock.set(min(now, ends - timedelta(seconds=1)))
        assert (await orders.card(ALEX, quiet.id)).protection_days_left(ZoneInfo(zone_name)) == left, zone_name
    app.clock.set(quiet.protection_ends_at - timedelta(seconds=1))
    assert await orders.auto_complete(app.clock.now()) == 0
    app.clock.set(max(quiet.protection_ends_at, disputed.protection_ends_at) + timedelta(days=1))
    assert await orders.auto_complete(app.clock.now()) == 1
    assert await orders.auto_complete(app.clock.now()) == 0
    assert (await orders.by_number(quiet.number)).status == "completed"
    assert (await orders.by_number(disputed.number)).status == "in_dispute"
    async with app.services.db.read() as conn:
        history = await orders_repo.history(conn, quiet.id)
    assert (history[-1].status, history[-1].actor, history[-1].note) == ("completed", "system", "protection_ended")


async def test_the_sweeper_runs_the_order_transitions(app: App) -> None:
    sweeper = build_sweeper(app.services)
    assert {"expire_unpaid_orders", "complete_protected_orders", "poll_parcel_tracking"} <= set(sweeper.names)
    await make_order(app.services, app.clock, ALEX, Status.awaiting_payment)
    done = await sweeper(app.clock.advance(days=1))
    assert done["expire_unpaid_orders"] == 1


async def test_a_race_between_paying_and_expiry_changes_state_once(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_payment)
    app.clock.advance(days=1)
    await app.services.orders.mark_paid(ALEX, order.id, VISA)  # paid just before the sweep
    assert await app.services.orders.expire_unpaid(app.clock.now()) == 0
    assert (await app.services.orders.by_number(order.number)).status == "awaiting_shipment"


# -- deleted orders ----------------------------------------------------------------------------------
async def test_what_can_be_deleted(app: App) -> None:
    messages = {}
    for status in Status:
        order = await make_order(app.services, app.clock, ALEX, status)
        if status in DELETABLE:
            deleted = await app.services.orders.delete(ALEX, order.id)
            assert deleted.deleted_at is not None
            if status == Status.awaiting_payment:  # nobody should pay for an order in the bin
                assert (deleted.status, deleted.cancel_reason) == ("cancelled", "deleted")
        else:
            with pytest.raises(CannotDelete) as info:
                await app.services.orders.delete(ALEX, order.id)
            messages[status] = info.value.msgid
    assert "on its way" in messages[Status.shipped]
    assert "open dispute" in messages[Status.in_dispute]
    assert "cancel it instead" in messages[Status.awaiting_shipment]


async def test_delete_restore_purge(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.completed)
    orders = app.services.orders
    await orders.delete(ALEX, order.id)
    with pytest.raises(AlreadyDone):
        await orders.delete(ALEX, order.id)
    page = await orders.page(ALEX)
    assert page.total == 0 and page.deleted_count == 1
    assert [r.id for r in (await orders.deleted(ALEX)).rows] == [order.id]
    with pytest.raises(OrderInBin):
        await orders.confirm_receipt(ALEX, order.id)
    await orders.restore(ALEX, order.id)
    with pytest.raises(AlreadyDone):
        await orders.restore(ALEX, order.id)
    assert (await orders.page(ALEX)).total == 1
    with pytest.raises(ForbiddenTransition):
        await orders.purge(ALEX, order.id)  # only from the bin
    await orders.delete(ALEX, order.id)
    await orders.purge(ALEX, order.id)
    with pytest.raises(OrderNotFound):
        await orders.card(ALEX, order.id)
    assert (await orders.deleted(ALEX)).total == 0
    async with app.services.db.read() as conn:
        raw = (await conn.execute(text("SELECT shipping_address, search_text FROM orders WHERE id = :id"),
                                  {"id": order.id})).one()
    assert tuple(raw) == ("{}", "")  # the buyer's data is erased; the shop keeps the record


async def test_the_confirmation_screens_say_why_before_they_are_shown(app: App) -> None:
    """Confirm receipt and Delete for good are refused before their question, with the reason."""
    orders = app.services.orders
    shipped = await make_order(app.services, app.clock, ALEX, Status.shipped)
    paid = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    assert (await orders.confirm_preview(ALEX, shipped.id)).order.id == shipped.id
    with pytest.raises(ForbiddenTransition):
        await orders.confirm_preview(ALEX, paid.id)  # not shipped yet
    with pytest.raises(NotInBin):
        await orders.purge_preview(ALEX, shipped.id)
    await orders.confirm_receipt(ALEX, shipped.id)
    with pytest.raises(AlreadyDone):
        await orders.confirm_preview(ALEX, shipped.id)
    await orders.delete(ALEX, shipped.id)  # a completed order may be deleted
    with pytest.raises(OrderInBin):
        await orders.confirm_preview(ALEX, shipped.id)
    assert (await orders.purge_preview(ALEX, shipped.id)).in_bin
    with pytest.raises(OrderNotFound):
        await orders.purge_preview(BOB, shipped.id)


async def test_purge_takes_the_orders_notifications_out_of_the_message_centre(app: App) -> None:
    """Deleting an order for good removes every push about it, sent (the message centre) or still
    to be sent; the other orders' notifications stay."""
    from bot.db import reviews as reviews_repo
    from tests.pushkit import sim_delivery

    gone = await make_order(app.services, app.clock, ALEX, Status.completed)
    kept = await make_order(app.services, app.clock, ALEX, Status.in_dispute)
    async with app.services.db.read() as conn:
        (item, *_) = await reviews_repo.order_items(conn, ALEX, gone.id)
    review = await app.services.reviews.publish(ALEX, item.item_id, rating=5, text="Good")
    await app.services.reviews.seller_reply(review.card.review.id, "Thanks!")  # names the order by number
    await sim_delivery(app)(app.clock.now())

    def about(row: outbox_repo.OutboxRow, order) -> bool:
        return row.payload.get("order_id") == order.id or row.payload.get("number") == order.number

    async def rows() -> list[outbox_repo.OutboxRow]:
        async with app.services.db.read() as conn:
            return await outbox_repo.for_user(conn, ALEX)

    before = await rows()
    assert {r.kind for r in before if about(r, gone) and r.state == "sent"} >= {"order_status", "review_reply"}
    assert any(about(r, kept) and r.state == "sent" for r in before)
    centre = await app.services.messages.page(ALEX)
    assert any(about(r, gone) for r in centre.rows)
    await app.services.orders.delete(ALEX, gone.id)
    await app.services.orders.purge(ALEX, gone.id)
    after = await rows()
    assert not [r for r in after if about(r, gone)]
    assert [r.id for r in after] == [r.id for r in before if not about(r, gone)]
    centre = await app.services.messages.page(ALEX)
    assert centre.total == len([r for r in after if r.state == "sent"]) > 0
    assert all(about(r, kept) for r in centre.rows)


# -- someone else's orders -------------------------------------------------------------------------------
async def test_another_users_order_is_not_found(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    await ensure_user(app.services, BOB)
    orders = app.services.orders
    for call in (orders.card(BOB, order.id), orders.cancel(BOB, order.id, "other"),
                 orders.confirm_receipt(BOB, order.id), orders.delete(BOB, order.id),
                 orders.tracking(BOB, order.id), orders.cancel_preview(BOB, order.id),
                 app.services.disputes.start(BOB, order.id)):
        with pytest.raises(OrderNotFound):
            await call
    assert (await orders.by_number(order.number)).status == "shipped"


# -- lists -----------------------------------------------------------------------------------------------
async def test_tabs_counts_pages_newest_first(app: App) -> None:
    orders = app.services.orders
    made = []
    for status in [Status.awaiting_payment] * 7 + [Status.shipped, Status.completed, Status.closed, Status.cancelled]:
        made.append(await make_order(app.services, app.clock, ALEX, status))
        app.clock.advance(hours=1)
    page = await orders.page(ALEX, OrderTab.all)
    assert page.total == 11 and page.pages == 3 and len(page.rows) == 5
    assert [r.id for r in page.rows] == [o.id for o in reversed(made)][:5]
    assert page.counts == {OrderTab.all: 11, OrderTab.unpaid: 7, OrderTab.to_ship: 0, OrderTab.shipped: 1,
                           OrderTab.in_dispute: 0, OrderTab.completed: 2, OrderTab.cancelled: 1}
    unpaid = await orders.page(ALEX, OrderTab.unpaid, 1)
    assert (unpaid.page, unpaid.pages, len(unpaid.rows)) == (1, 2, 2)
    beyond = await orders.page(ALEX, OrderTab.unpaid, 99)  # a stale page number: the last page
    assert beyond.page == 1
    empty = await orders.page(ALEX, OrderTab.to_ship)
    assert (empty.total, empty.rows, empty.pages) == (0, (), 1)
    row = page.rows[0]
    assert (row.first_title, row.item_lines) == ("Wireless earbuds TWS Pro 5", 2)


async def test_search_by_number_and_by_a_word_in_any_case(app: App) -> None:
    orders = app.services.orders
    a = await place(app.services, ALEX, items=[NewItem("Беспроводные Наушники", 1, 100)], currency="RUB")
    b = await place(app.services, ALEX, items=[NewItem("Lamp 100% cotton_shade", 1, 100)])
    await place(app.services, BOB, items=[NewItem("Беспроводные наушники", 1, 100)], currency="RUB")
    assert [r.id for r in (await orders.search(ALEX, "наушники")).rows] == [a.id]
    assert [r.id for r in (await orders.search(ALEX, "НАУШНИКИ")).rows] == [a.id]
    assert [r.id for r in (await orders.search(ALEX, f"№ {a.number}")).rows] == [a.id]
    spaced = " ".join([a.number[:6], a.number[6:]])
    assert [r.id for r in (await orders.search(ALEX, spaced)).rows] == [a.id]
    assert [r.id for r in (await orders.search(ALEX, "100%")).rows] == [b.id]
    assert [r.id for r in (await orders.search(ALEX, "n_s")).rows] == [b.id]
    assert (await orders.search(ALEX, "n_x")).total == 0  # "_" is not a wildcard
    assert (await orders.search(ALEX, "%%")).total == 0  # wildcards are literal
    assert [r.id for r in (await orders.search(ALEX, "наушники беспроводные")).rows] == [a.id]  # any order
    assert (await orders.search(ALEX, "наушники lamp")).total == 0  # every word must match
    with pytest.raises(InvalidInput):
        await orders.search(ALEX, " x ")


@sqlite_only
async def test_list_queries_use_the_indexes(app: App) -> None:
    async with app.services.db.read() as conn:
        def plan(sql: str):
            return conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)

        tab = " ".join(str(r) for r in (await plan(
            "SELECT id FROM orders WHERE user_id = 1 AND deleted_at IS NULL AND status = 'shipped' "
            "ORDER BY created_at DESC, id DESC LIMIT 5 OFFSET 5")).all())
        assert "ix_orders_user_status_created" in tab and "TEMP B-TREE" not in tab
        every = " ".join(str(r) for r in (await plan(
            "SELECT id FROM orders WHERE user_id = 1 AND deleted_at IS NULL "
            "ORDER BY created_at DESC, id DESC LIMIT 5")).all())
        assert "ix_orders_user_created" in every and "TEMP B-TREE" not in every
        counts = " ".join(str(r) for r in (await plan(
            "SELECT status, count(*) FROM orders WHERE user_id = 1 AND deleted_at IS NULL GROUP BY status")).all())
        assert "ix_orders_user_status_created (user_id=?)" in counts
        due = " ".join(str(r) for r in (await plan(
            "SELECT id FROM orders WHERE status = 'awaiting_payment' AND pay_by <= '2026' ORDER BY pay_by")).all())
        assert "ix_orders_pay_by" in due


@sqlite_only
async def test_the_list_readers_statement_uses_the_indexes(app: App) -> None:
    """EXPLAIN of the statement the order list runs (not a hand-written copy): the page walks the
    user's status index in order (no sort), the counts group over it, Deleted orders over theirs."""
    for statuses in [("shipped",), ()]:
        sql = orders_repo._tab_sql(len(statuses))
        async with app.services.db.read() as conn:
            plan = " ".join(str(r) for r in (await conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql, (1, *statuses, 5, 0, 1, 1))).all())
        page = "ix_orders_user_status_created" if statuses else "ix_orders_user_created"
        assert page in plan and "TEMP B-TREE" not in plan, plan
        assert "ix_orders_user_status_created (user_id=?)" in plan and "ix_orders_user_deleted" in plan, plan


# -- tracking ---------------------------------------------------------------------------------------------
async def test_tracking_from_the_demo_carrier_over_time(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    orders = app.services.orders
    first = await orders.tracking(ALEX, order.id)  # nothing stored yet: asks the carrier
    assert [e.code for e in first.events] == ["accepted"] and first.new_events == 1
    app.clock.advance(days=4)
    later = await orders.tracking(ALEX, order.id, refresh=True)
    codes = [e.code for e in later.events]
    assert codes[-1] == "accepted" and len(codes) > 3 and later.new_events == len(codes) - 1
    assert [e.at for e in later.events] == sorted((e.at for e in later.events), reverse=True)
    again = await orders.tracking(ALEX, order.id, refresh=True)
    assert again.new_events == 0 and len(again.events) == len(codes)
    async with app.services.db.read() as conn:
        pushes = await outbox_repo.for_user(conn, ALEX, "order_tracking")
    assert len(pushes) == len(codes)
    assert {p.payload["code"] for p in pushes} == set(codes)


async def test_delivery_sets_delivered_at_and_the_poll_finds_new_events(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    orders = app.services.orders
    assert await orders.poll_tracking(app.clock.now()) == 1  # never asked: asked at once
    assert await orders.poll_tracking(app.clock.advance(hours=5)) == 0  # asked less than 6 hours ago
    assert await orders.poll_tracking(app.clock.advance(hours=16)) >= 1  # the next leg of the journey
    await orders.deliver(ALEX, order.id)
    delivered = await orders.by_number(order.number)
    assert delivered.delivered_at == app.clock.now() and delivered.status == "shipped"
    added = await orders.add_tracking_event(ALEX, order.id, CarrierEvent(app.clock.now(), "delivered", "X"))
    assert added == 0  # the same event twice is stored once
    unshipped = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    with pytest.raises(NoTracking):
        await orders.tracking(ALEX, unshipped.id)


# -- creation -----------------------------------------------------------------------------------------------
async def test_create_validates_and_snapshots(app: App) -> None:
    orders = app.services.orders
    await ensure_user(app.services, ALEX)
    store = await orders.ensure_store("Nova")
    assert await orders.ensure_store("Nova") == store
    with pytest.raises(InvalidInput):
        await orders.create(user_id=ALEX, store_id=store, items=[], currency="USD")
    with pytest.raises(InvalidInput):
        await orders.create(user_id=ALEX, store_id=store, items=[NewItem("x", 0, 1)], currency="USD")
    with pytest.raises(InvalidInput):
        await orders.create(user_id=ALEX, store_id=store, items=[NewItem("x", 1, 1)], currency="dollars")
    with pytest.raises(DomainError):
        await orders.create(user_id=999, store_id=store, items=[NewItem("x", 1, 1)], currency="USD")
    order = await orders.create(user_id=ALEX, store_id=store, items=[NewItem("x", 3, 150)], currency="usd",
                                shipping_minor=99)
    assert (order.items_minor, order.total_minor, order.currency, order.usd_rate) == (450, 549, "USD", "1")
    assert order.number == f"{app.clock.now():%y%m%d}{order.id:06d}"
    # the date is the buyer's: late on the 25th in New York is the 26th in UTC
    await app.services.settings.set_time_zone(ALEX, "America/New_York")
    app.clock.set(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
    late = await orders.create(user_id=ALEX, store_id=store, items=[NewItem("x", 1, 150)], currency="USD")
    assert late.number == f"261125{late.id:06d}"
    with pytest.raises(InvalidInput):
        await orders.create(user_id=ALEX, store_id=store, items=[NewItem("x", 1, 1)], currency="USD",
                            number=order.number)
    with pytest.raises(InvalidInput):
        await orders.create(user_id=ALEX, store_id=store, items=[NewItem("x", 1, 1)], currency="USD",
                            number="<b>1</b>")


async def test_a_carrier_outage_breaks_nothing(app: App) -> None:
    class Down:
        async def events(self, shipment, now):
            raise ConnectionError("carrier down")

    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    orders = app.services.orders
    orders.carrier = Down()
    tracking = await orders.tracking(ALEX, order.id)
    assert tracking.carrier_failed and tracking.events == ()
    failed_at = app.clock.advance(hours=7)
    assert await orders.poll_tracking(failed_at) == 0
    retried = await orders.by_number(order.number)
    assert retried.tracking_checked_at == failed_at - timedelta(hours=6) + timedelta(minutes=30)  # again in 30 min


async def test_refresh_does_not_hammer_the_carrier(app: App) -> None:
    calls = []

    class Counting:
        async def events(self, shipment, now):
            calls.append(now)
            return []

    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    app.services.orders.carrier = Counting()
    await app.services.orders.tracking(ALEX, order.id, refresh=True)
    await app.services.orders.tracking(ALEX, order.id, refresh=True)
    app.clock.advance(seconds=31)
    await app.services.orders.tracking(ALEX, order.id, refresh=True)
    assert len(calls) == 2


async def test_the_migration_creates_what_tables_py_describes(app: App) -> None:
    from sqlalchemy import inspect

    from bot.db import tables

    def described(sync_conn: Any) -> None:  # the database's own catalog, SQLite's or PostgreSQL's
        found = inspect(sync_conn)
        for table in (tables.stores, tables.products, tables.orders, tables.order_items,
                      tables.order_status_history, tables.tracking_events, tables.disputes, tables.refunds):
            cols = [c["name"] for c in found.get_columns(table.name) if c["name"] != "search"]  # PG's tsvector
            assert cols == [c.name for c in table.columns], table.name
            indexes = {i["name"] for i in found.get_indexes(table.name)}
            assert {i.name for i in table.indexes} <= indexes, table.name

    async with app.services.db.read() as conn:
        await conn.run_sync(described)


async def test_the_screens_readers_read_the_orders_as_they_are(app: App) -> None:
    """The list's and the card's readers (one statement each) over orders in every status, a
    deleted one, a refund and a dispute: counts per status and of Deleted orders, the page newest
    first, and the card's order, store, items, refunds and dispute as the orders were made."""
    services, user = app.services, 4242
    made = [await make_order(services, app.clock, user, status) for status in Status]
    made.append(await make_order(services, app.clock, user, Status.completed))
    await services.orders.delete(user, made[-1].id)
    await make_order(services, app.clock, user + 1, Status.shipped)  # someone else's
    visible = sorted(made[:-1], key=lambda o: (o.created_at, o.id), reverse=True)
    expected_counts = {s.value: 1 for s in Status} | {Status.completed.value: 1, orders_repo.DELETED: 1}
    for statuses in [None, (Status.shipped,), (Status.completed, Status.closed)]:
        wanted = [o for o in visible if statuses is None or o.status in statuses]
        for offset in (0, 2, 50):
            counts, rows = await orders_repo.tab_page(services.db, user, statuses, offset=offset, limit=3)
            assert counts == expected_counts
            assert [r.id for r in rows] == [o.id for o in wanted[offset:offset + 3]]
            for row, order in zip(rows, wanted[offset:offset + 3], strict=True):
                assert (row.number, row.status, row.created_at, row.total_minor, row.currency, row.first_title,
                        row.item_lines, row.deleted_at) == (
                    order.number, order.status, order.created_at, order.total_minor, order.currency,
                    EARBUDS.title, 2, None)
    reads = {}
    for order in made:
        read = await orders_repo.card_read(services.db, order.id, user)
        assert read is not None
        assert read.order == await services.orders.by_number(order.number)
        assert [(i.position, i.title, i.quantity, i.unit_price_minor, i.options) for i in read.items] == [
            (1, EARBUDS.title, EARBUDS.quantity, EARBUDS.unit_price_minor, EARBUDS.options),
            (2, CABLE.title, CABLE.quantity, CABLE.unit_price_minor, CABLE.options)]
        assert read.store == "Nova Electronics"
        assert await orders_repo.card_read(services.db, order.id, user + 1) is None  # not through its owner
        reads[read.order.status] = read
    async with services.db.read() as conn:
        for status, read in reads.items():
            assert read.has_refunds == bool(await refunds_repo.for_order(conn, read.order.id)), status
            dispute = await disputes_repo.for_order(conn, read.order.id)
            assert (read.dispute is None) == (dispute is None), status
            if dispute is not None and read.dispute is not None:
                assert (read.dispute.id, read.dispute.state, read.dispute.seller_answer, read.dispute.resolution) == (
                    dispute.id, dispute.state, dispute.seller_answer, dispute.resolution)
    assert reads[Status.closed].has_refunds and reads[Status.closed].dispute is not None
    assert reads[Status.in_dispute].dispute is not None and not reads[Status.awaiting_payment].has_refunds


async def test_the_card_after_a_write_is_the_card_a_read_shows(app: App) -> None:
    """Cancel and confirm return the card from the same reader the Open button uses, read inside
    the unit of work: what was just written is on it."""
    orders = app.services.orders
    paid = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    cancelled = await orders.cancel(ALEX, paid.id, "changed_mind")
    assert cancelled.order.status == Status.cancelled and cancelled.refunds  # the refund written with it
    assert cancelled == await orders.card(ALEX, paid.id)
    shipped = await make_order(app.services, app.clock, ALEX, Status.shipped)
    confirmed = await orders.confirm_receipt(ALEX, shipped.id)
    assert confirmed.order.status == Status.completed and confirmed.order.completed_at == app.clock.now()
    assert confirmed == await orders.card(ALEX, shipped.id)


async def test_the_address_snapshot_keeps_the_stored_postcode_key(app: App) -> None:
    """The snapshot's field is `postal_code`, as in the address book; the orders table's JSON keeps
    the key its rows have always had ("postcode"), so old rows read the same."""
    import json

    from bot.services.orders import AddressSnapshot
    from tests.orderkit import HOME

    order = await place(app.services, ALEX)
    async with app.services.db.read() as conn:
        [raw] = (await conn.execute(text("SELECT shipping_address FROM orders WHERE id = :id"), {"id": order.id})).one()
    stored = json.loads(raw)
    assert stored["postcode"] == "12345" and "postal_code" not in stored
    assert (await app.services.orders.card(ALEX, order.id)).address == HOME
    old = '{"city": "Springfield", "country": "US", "postcode": "12345", "unknown": "x"}'
    assert AddressSnapshot.from_json(old) == AddressSnapshot(city="Springfield", postal_code="12345", country="US")
