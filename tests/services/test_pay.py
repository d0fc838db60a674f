"""Paying orders and the links between sections, directly through the services: idempotency keys,
a decline moving to the next attempt, a race with the clock cancelling the order (the charge is
given back), the card-usage and address-usage counts, what refunds learn about the paying card."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

import main
from bot.cli.common import perform
from bot.db import orders as orders_repo
from bot.integrations.payments import SandboxGateway
from bot.services.addresses import AddressDraft
from bot.services.cards import CardLimitReached, CardUsageSummary, PaymentDeclined
from bot.services.errors import NotFound
from bot.services.orders import AlreadyDone, ForbiddenTransition, Status
from bot.services.pay import pay_key
from bot.services.refunds import CardSnapshot, CardState
from tests.conftest import App
from tests.orderkit import EARBUDS, HOME, ensure_user, make_order, place

ALEX, BOB = 1001, 2002
CALIFORNIA = AddressDraft(
    country="US", recipient="John Smith", phone="+1 650 253 0000", region="CA", city="Mountain View",
    street="1600 Amphitheatre Pkwy", postal_code="94043",
)


def gateway(app: App) -> SandboxGateway:
    assert isinstance(app.services.payments, SandboxGateway)
    return app.services.payments


async def add_card(app: App, user_id: int, number: str = "4242424242424242", expiry: str = "12/29") -> int:
    cards = app.services.cards
    await ensure_user(app.services, user_id)
    accepted = await cards.enter_number(user_id, None, number)
    await cards.enter_expiry(accepted.session_id, expiry)
    await cards.enter_holder(accepted.session_id, "IVAN PETROV")
    verified = await cards.verify(user_id, accepted.session_id, "123")
    outcome = await cards.save(user_id, verified)
    return outcome.card.id  # type: ignore[union-attr]


async def row(app: App, order_id: int):
    async with app.services.db.read() as conn:
        return await orders_repo.get(conn, order_id)


async def test_pay_records_the_card_and_the_charge_and_a_second_pay_is_already_done(app: App) -> None:
    card_id = await add_card(app, ALEX)
    order = await place(app.services, ALEX)
    assert pay_key(order) == f"order:{order.id}:pay:0"
    paid = await app.services.pay.pay(ALEX, order.id, card_id)
    assert paid.order.status == Status.awaiting_shipment and paid.card.card_id == card_id
    charge = gateway(app).charges[0]
    assert (charge.amount_minor, charge.currency) == (order.total_minor, "USD")
    after = await row(app, order.id)
    assert after.paid_charge_id == charge.id and after.paid_card_id == card_id and after.pay_by is None
    with pytest.raises(AlreadyDone):
        await app.services.pay.pay(ALEX, order.id, card_id)
    assert len(gateway(app).charges) == 1


async def test_a_decline_moves_to_the_next_attempt(app: App) -> None:
    poor = await add_card(app, ALEX, "4000000000000341")
    rich = await add_card(app, ALEX, "5555555555554444")
    order = await place(app.services, ALEX)
    for attempt in (1, 2):
        with pytest.raises(PaymentDeclined):
            await app.services.pay.pay(ALEX, order.id, poor)
        assert (await row(app, order.id)).pay_attempts == attempt
    paid = await app.services.pay.pay(ALEX, order.id, rich)
    assert paid.order.status == Status.awaiting_shipment
    assert len(gateway(app).charges) == 1


async def test_an_order_cancelled_while_the_gateway_charges_gets_its_money_back(app: App) -> None:
    card_id = await add_card(app, ALEX)
    order = await place(app.services, ALEX)
    orders = app.services.orders
    real = orders.mark_paid

    async def cancelled_meanwhile(*args, **kwargs):
        # the clock can't cancel an order while a payment is under way (issue 15) …
        assert await orders.expire_unpaid(app.clock.now() + orders.policy.unpaid_ttl) == 0
        await orders.cancel(ALEX, order.id, "changed_mind")  # … but the buyer can, in another chat
        return await real(*args, **kwargs)

    orders.mark_paid = cancelled_meanwhile  # type: ignore[method-assign]
    with pytest.raises(ForbiddenTransition):
        await app.services.pay.pay(ALEX, order.id, card_id)
    charge = gateway(app).charges[0]
    assert [(r.charge_id, r.amount_minor) for r in gateway(app).refunds] == [(charge.id, charge.amount_minor)]
    assert (await row(app, order.id)).status == Status.cancelled


async def verified_card(app: App, user_id: int, number: str, *, for_wallet: bool = True):
    cards = app.services.cards
    await ensure_user(app.services, user_id)
    accepted = await cards.enter_number(user_id, None, number)
    await cards.enter_expiry(accepted.session_id, "12/29")
    await cards.enter_holder(accepted.session_id, "IVAN PETROV")
    return await cards.verify(user_id, accepted.session_id, "123", for_wallet=for_wallet)


async def test_a_card_used_once_pays_without_entering_even_a_full_wallet(app: App) -> None:
    order = await place(app.services, ALEX)
    for number in ("4242424242424242", "5555555555554444", "2200000000000004", "6200000000000005",
                   "3566002020360505"):
        assert not (await app.services.pay.options(ALEX, order.id)).wallet_full  # room for one more
        await add_card(app, ALEX, number)
    assert (await app.services.pay.options(ALEX, order.id)).wallet_full  # five: a new card pays once
    with pytest.raises(CardLimitReached):
        await verified_card(app, ALEX, "6759649826438453")  # to be saved: no room
    verified = await verified_card(app, ALEX, "6759649826438453", for_wallet=False)
    await app.services.cards.use_once(ALEX, verified)
    await app.services.cards.use_once(ALEX, verified)  # a repeat records the hold once
    paid = await app.services.pay.pay_once(ALEX, order.id, verified)
    assert (paid.card, paid.card_kept) == (CardSnapshot(None, "maestro", "8453", 12, 2029), False)
    after = await row(app, order.id)
    assert (after.status, after.paid_card_id, after.paid_card_last4) == (Status.awaiting_shipment, None, "8453")
    assert after.paid_charge_id == gateway(app).charges[-1].id
    assert gateway(app).charges[-1].token == verified.token
    assert len(await app.services.cards.wallet(ALEX)) == 5
    with pytest.raises(AlreadyDone):
        await app.services.pay.pay_once(ALEX, order.id, verified)
    assert len(gateway(app).charges) == 1
    # the hold is released a day later, and the gateway forgets the card
    async with app.services.db.read() as conn:
        holds = (await conn.execute(text("SELECT card_id, orphan_token FROM card_holds WHERE gateway_hold_id = :h"),
                                    {"h": verified.hold.id})).all()
    assert holds == [(None, verified.token)]
    app.clock.advance(days=1, minutes=1)
    assert await app.services.cards.release_due_holds(app.clock.now()) == 6
    assert verified.token in gateway(app).detached and gateway(app).holds[verified.hold.id] is True
    # and its refund goes back through the charge, to the card
    await app.services.orders.cancel(ALEX, order.id, "changed_mind")
    [refund] = (await app.services.orders.card(ALEX, order.id)).refunds
    assert (refund.destination, refund.card_last4) == ("card", "8453")
    assert await app.services.refunds.pay_out_due(app.clock.now()) == 1
    assert gateway(app).refunds[-1].charge_id == after.paid_charge_id


async def test_a_card_used_once_that_is_declined_leaves_the_order_unpaid(app: App) -> None:
    order = await place(app.services, ALEX)
    verified = await verified_card(app, ALEX, "4000000000000341", for_wallet=False)
    await app.services.cards.use_once(ALEX, verified)
    with pytest.raises(PaymentDeclined):
        await app.services.pay.pay_once(ALEX, order.id, verified)
    after = await row(app, order.id)
    assert (after.status, after.pay_attempts, after.paid_charge_id) == (Status.awaiting_payment, 1, None)
    assert await app.services.cards.wallet(ALEX) == []


async def test_other_users_orders_and_cards(app: App) -> None:
    alexs_card = await add_card(app, ALEX)
    bobs_card = await add_card(app, BOB, "5555555555554444")
    bobs_order = await place(app.services, BOB)
    alexs_order = await place(app.services, ALEX)
    with pytest.raises(NotFound):
        await app.services.pay.pay(ALEX, bobs_order.id, alexs_card)
    with pytest.raises(NotFound):
        await app.services.pay.pay(ALEX, alexs_order.id, bobs_card)
    with pytest.raises(NotFound):
        await app.services.pay.options(ALEX, bobs_order.id)
    assert gateway(app).charges == []


async def test_card_usage_counts_each_unfinished_order_once(app: App) -> None:
    card_id = await add_card(app, ALEX)
    snap = CardSnapshot(card_id, "visa", "4242", 12, 2029)
    kit = app.services, app.clock
    for status in (Status.awaiting_shipment, Status.shipped, Status.shipped, Status.in_dispute,
                   Status.completed, Status.closed, Status.awaiting_payment):
        await make_order(*kit, ALEX, status, card=snap)
    cancelled = await make_order(*kit, ALEX, Status.awaiting_shipment, card=snap)
    await app.services.orders.cancel(ALEX, cancelled.id, "changed_mind")  # a refund pending
    await make_order(*kit, ALEX, Status.shipped)  # another card
    usage = await app.services.cards.pending_orders(ALEX, card_id)
    # the closed dispute refunded in full: its refund is pending too
    assert usage == CardUsageSummary(in_delivery=3, in_dispute=1, refund_pending=2)
    async with app.services.db.read() as conn:
        for refund_id in [r[0] for r in (await conn.execute(text("SELECT id FROM refunds"))).all()]:
            await app.services.refunds.complete(refund_id)
    assert (await app.services.cards.pending_orders(ALEX, card_id)).refund_pending == 0


async def test_address_usage_counts_undelivered_orders_placed_with_it(app: App) -> None:
    await ensure_user(app.services, ALEX)
    await ensure_user(app.services, BOB)
    address = await app.services.addresses.add(ALEX, CALIFORNIA)
    store = await app.services.orders.ensure_store("Nova Electronics")
    orders = app.services.orders

    async def placed():
        return await orders.create(user_id=ALEX, store_id=store, items=[EARBUDS], currency="USD", address=HOME,
                                   address_id=address.id)

    await placed()  # unpaid
    paid = await placed()
    await orders.mark_paid(ALEX, paid.id, CardSnapshot(None, "visa", "4242"))
    shipped = await placed()
    await orders.mark_paid(ALEX, shipped.id, CardSnapshot(None, "visa", "4242"))
    await orders.ship(ALEX, shipped.id, "LP1CN")
    delivered = await placed()
    await orders.mark_paid(ALEX, delivered.id, CardSnapshot(None, "visa", "4242"))
    await orders.ship(ALEX, delivered.id, "LP2CN")
    await orders.deliver(ALEX, delivered.id)
    cancelled = await placed()
    await orders.cancel(ALEX, cancelled.id, "changed_mind")
    assert await app.services.addresses.open_orders(ALEX, address.id) == 3
    assert await app.services.addresses.open_orders(BOB, address.id) == 0
    with pytest.raises(NotFound):  # another user's address can't be put on an order
        await orders.create(user_id=BOB, store_id=store, items=[EARBUDS], currency="USD", address_id=address.id)


async def test_deleting_an_address_unlinks_its_orders(app: App) -> None:
    await ensure_user(app.services, ALEX)
    address = await app.services.addresses.add(ALEX, CALIFORNIA)
    store = await app.services.orders.ensure_store("Nova Electronics")
    order = await app.services.orders.create(user_id=ALEX, store_id=store, items=[EARBUDS], currency="USD",
                                             address=HOME, address_id=address.id)
    async with app.services.db.read() as conn:
        if conn.dialect.name == "sqlite":  # its inspector misses ON DELETE of a column added by ALTER TABLE
            fks = {(f[2], (f[3],), f[6]) for f in (await conn.execute(text("PRAGMA foreign_key_list(orders)"))).all()}
        else:
            fks = {(f["referred_table"], tuple(f["constrained_columns"]), f["options"].get("ondelete"))
                   for f in await conn.run_sync(lambda c: inspect(c).get_foreign_keys("orders"))}
    assert ("addresses", ("address_id",), "SET NULL") in fks
    await app.services.addresses.delete(ALEX, address.id)
    after = await row(app, order.id)
    assert after.address_id is None and "John Smith" in after.shipping_address  # the book entry's snapshot stays


async def test_refunds_ask_the_wallet_what_became_of_the_paying_card(app: App) -> None:
    lookup = app.services.orders.cards
    live = await add_card(app, ALEX)
    old = await add_card(app, ALEX, "5555555555554444", expiry="12/26")
    gone = await add_card(app, ALEX, "2200000000000004")
    await app.services.cards.delete(ALEX, gone)
    app.clock.advance(days=60)  # from Nov 25, 2026 into 2027: the 12/26 card has expired
    now = app.clock.now()
    async with app.services.db.read() as conn:
        async def state(card_id, exp=(12, 2029)):
            return await lookup.card_state(conn, ALEX, CardSnapshot(card_id, "visa", "0000", *exp), now)

        assert await state(live) == CardState.active
        assert await state(old) == CardState.expired
        assert await state(gone) == CardState.deleted
        # not in this user's wallet (Bob's card, or a card paid before the wallet): the snapshot decides
        assert await state(9999) == CardState.active
        assert await state(9999, (1, 2020)) == CardState.expired
        assert await lookup.card_state(conn, BOB, CardSnapshot(live, "visa", "4242", 12, 2029), now) == CardState.active


async def test_the_operator_places_an_order_with_an_address_from_the_book(app: App) -> None:
    await ensure_user(app.services, ALEX)
    address = await app.services.addresses.add(ALEX, CALIFORNIA)
    line = await perform(main.parse_args([
        "order", "create", "--user", str(ALEX), "--store", "Nova", "--item", "Cable|1|4.50",
        "--address-id", str(address.id)]), app.services)
    assert line.startswith("created ")
    assert await app.services.addresses.open_orders(ALEX, address.id) == 1
    with pytest.raises(NotFound):
        await perform(main.parse_args([
            "order", "create", "--user", str(BOB), "--store", "Nova", "--item", "Cable|1|4.50",
            "--address-id", str(address.id)]), app.services)
