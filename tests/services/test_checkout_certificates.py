"""Gift certificates at checkout, called directly: they pay what the coupons leave (the soonest to
expire first), the card pays the rest — or nothing, when they pay it all and the order is paid as
it is placed. Their money comes back when the unpaid order is cancelled, and a refund of a paid
order goes to the card first, then to them, at once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.tables import outbox as outbox_t
from bot.services.catalog.checkout import AmountChanged, Item
from bot.services.coupons.checkout import RENEWED_FOR
from bot.services.orders import Status
from bot.services.refunds import REFUND_KIND, RefundTo
from tests.conftest import App
from tests.services.test_checkout import BUYER, coupon, stock
from tests.services.test_pay import add_card, gateway


@pytest.fixture
async def ready(app: App) -> dict[str, int]:
    return await stock(app)


async def certificate(app: App, amount: int, days: int = 30, currency: str = "USD") -> int:
    cert = await app.services.coupons.grant_certificate(
        BUYER, amount_minor=amount, currency=currency, valid_to=app.clock.now() + timedelta(days=days))
    return cert.id


async def balance(app: App, cert_id: int) -> int:
    return (await app.services.coupons.certificate(BUYER, cert_id)).certificate.balance_minor


async def earbuds(app: App, ready: dict[str, int], quantity: int = 1) -> list[Item]:
    return await app.services.checkout.for_product(ready["earbuds"], {"colour": "black"}, quantity)


async def test_certificates_pay_what_the_coupons_leave_and_the_card_pays_the_rest(
        app: App, ready: dict[str, int]) -> None:
    checkout = app.services.checkout
    later, sooner = await certificate(app, 1500, days=60), await certificate(app, 500, days=10)
    coupon_id = await coupon(app, 300)
    items = await earbuds(app, ready)  # $29.99
    quote = await checkout.quote(BUYER, items, [coupon_id])
    assert (quote.total_minor, quote.certificates_minor, quote.card_minor) == (2699, 2000, 699)
    assert [p.certificate.id for p in quote.plan.certificates] == [sooner, later]  # the soonest to expire first
    off = await checkout.quote(BUYER, items, [coupon_id], certificates=False)
    assert (off.certificates_minor, off.card_minor) == (0, 2699)

    order = await checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[coupon_id])
    assert (order.total_minor, order.certificate_minor, order.card_minor) == (2699, 2000, 699)
    assert order.status == Status.awaiting_payment  # the card's part is still to pay
    assert (await balance(app, sooner), await balance(app, later)) == (0, 0)

    card_id = await add_card(app, BUYER)
    paid = await app.services.pay.pay(BUYER, order.id, card_id)
    assert paid.order.status == Status.awaiting_shipment
    charge = gateway(app).charges[-1]
    assert (charge.amount_minor, charge.currency) == (699, "USD")  # the card pays only its part
    assert paid.amount_minor == 699


async def test_certificates_that_pay_it_all_place_the_order_paid_with_no_card(app: App, ready: dict[str, int]) -> None:
    cert = await certificate(app, 10000)
    order = await app.services.checkout.place(BUYER, await earbuds(app, ready, 2), address_id=ready["address"],
                                              coupon_ids=[])
    assert order.status == Status.awaiting_shipment and order.paid_at == app.clock.now()
    assert (order.certificate_minor, order.card_minor, order.paid_card_last4) == (5998, 0, None)
    assert await balance(app, cert) == 10000 - 5998
    assert gateway(app).charges == []
    card = await app.services.orders.card(BUYER, order.id)
    assert card.card is None and card.status == Status.awaiting_shipment


async def test_switched_off_they_are_not_spent(app: App, ready: dict[str, int]) -> None:
    cert = await certificate(app, 1000)
    order = await app.services.checkout.place(BUYER, await earbuds(app, ready), address_id=ready["address"],
                                              coupon_ids=[], certificates=False)
    assert (order.certificate_minor, order.card_minor) == (0, 2999)
    assert await balance(app, cert) == 1000


async def test_other_amounts_than_the_buyer_saw_place_nothing(app: App, ready: dict[str, int]) -> None:
    checkout = app.services.checkout
    cert = await certificate(app, 1000)
    items = await earbuds(app, ready)
    seen = await checkout.quote(BUYER, items, [])
    assert (seen.total_minor, seen.card_minor) == (2999, 1999)
    # meanwhile another order spends the certificate
    await checkout.place(BUYER, await checkout.for_product(ready["cable"], {}), address_id=ready["address"],
                         coupon_ids=[])
    assert await balance(app, cert) == 1
    with pytest.raises(AmountChanged):
        await checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[],
                             expected=(seen.total_minor, seen.card_minor))
    assert (await app.services.orders.page(BUYER)).total == 1  # only the cable's order
    assert await balance(app, cert) == 1  # nothing spent by the refused order
    placed = await checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[], expected=(2999, 2998))
    assert placed.certificate_minor == 1


async def test_a_cancelled_unpaid_order_gives_the_certificates_their_money_back(app: App, ready: dict[str, int]) -> None:
    cert = await certificate(app, 1000)
    order = await app.services.checkout.place(BUYER, await earbuds(app, ready), address_id=ready["address"],
                                              coupon_ids=[])
    assert await balance(app, cert) == 0
    await app.services.orders.cancel(BUYER, order.id, "changed_mind")
    assert await balance(app, cert) == 1000
    history = (await app.services.coupons.certificate(BUYER, cert)).history
    assert [(e.kind, e.delta_minor, e.order_ref, e.order_number) for e in history][-2:] == [
        ("spend", -1000, order.number, order.number), ("refund", 1000, order.number, order.number)]
    async with app.services.db.write() as conn:  # a reference that is no order of theirs names none
        await app.services.coupons.spend(conn, BUYER, cert, 100, "USD", "SHOP-REF-7")
    assert (await app.services.coupons.certificate(BUYER, cert)).history[-1].order_number is None


async def test_a_cancelled_paid_order_refunds_the_card_its_part_and_the_certificates_theirs(
        app: App, ready: dict[str, int]) -> None:
    cert = await certificate(app, 1000)
    card_id = await add_card(app, BUYER)
    order = await app.services.checkout.place(BUYER, await earbuds(app, ready), address_id=ready["address"],
                                              coupon_ids=[])
    await app.services.pay.pay(BUYER, order.id, card_id)
    preview = (await app.services.orders.cancel_preview(BUYER, order.id)).refund
    assert preview is not None
    assert (preview.amount_minor, preview.certificates_minor, preview.card_minor) == (2999, 1000, 1999)
    assert preview.destination.to == RefundTo.card

    card = await app.services.orders.cancel(BUYER, order.id, "changed_mind")
    by_destination = {r.destination: r for r in card.refunds}
    assert by_destination.keys() == {RefundTo.card, RefundTo.certificate}
    to_card, to_cert = by_destination[RefundTo.card], by_destination[RefundTo.certificate]
    assert (to_card.amount_minor, to_card.state) == (1999, "pending")
    assert (to_cert.amount_minor, to_cert.state, to_cert.completed_at) == (1000, "completed", app.clock.now())
    assert to_cert.charge_id is None and to_cert.next_attempt_at is None  # nothing for the payout sweeper
    assert await balance(app, cert) == 1000
    assert await app.services.refunds.pay_out_due(app.clock.now()) == 1
    assert [(r.amount_minor, r.charge_id) for r in gateway(app).refunds] == [(1999, gateway(app).charges[-1].id)]


async def test_a_partial_refund_goes_to_the_card_first_then_to_the_certificates(
        app: App, ready: dict[str, int]) -> None:
    cert = await certificate(app, 2000)
    card_id = await add_card(app, BUYER)
    order = await app.services.checkout.place(BUYER, await earbuds(app, ready), address_id=ready["address"],
                                              coupon_ids=[])
    await app.services.pay.pay(BUYER, order.id, card_id)  # the card pays 999, the certificate 2000
    first = await app.services.orders.refund(BUYER, order.id, 500)
    assert (first.destination, first.amount_minor) == (RefundTo.card, 500)
    assert await balance(app, cert) == 0
    second = await app.services.orders.refund(BUYER, order.id, 1000)  # 499 left for the card, 501 to the certificate
    assert (second.destination, second.amount_minor) == (RefundTo.card, 499)
    card = await app.services.orders.card(BUYER, order.id)
    assert [(r.destination, r.amount_minor) for r in card.refunds] == [
        (RefundTo.card, 500), (RefundTo.card, 499), (RefundTo.certificate, 501)]
    assert await balance(app, cert) == 501
    rest = await app.services.orders.refund(BUYER, order.id)  # all that is left: the certificate's
    assert (rest.destination, rest.amount_minor) == (RefundTo.certificate, 1499)
    assert await balance(app, cert) == 2000


async def test_an_order_paid_by_certificates_alone_is_refunded_to_them(app: App, ready: dict[str, int]) -> None:
    cert = await certificate(app, 5000)
    order = await app.services.checkout.place(BUYER, await earbuds(app, ready), address_id=ready["address"],
                                              coupon_ids=[])
    preview = (await app.services.orders.cancel_preview(BUYER, order.id)).refund
    assert preview is not None and preview.destination.to == RefundTo.certificate and preview.card_minor == 0
    card = await app.services.orders.cancel(BUYER, order.id, "changed_mind")
    assert [(r.destination, r.amount_minor, r.state) for r in card.refunds] == [
        (RefundTo.certificate, 2999, "completed")]
    assert await balance(app, cert) == 5000


async def test_a_refund_to_a_certificate_that_expired_meanwhile_renews_it(app: App, ready: dict[str, int]) -> None:
    cert = await certificate(app, 5000, days=10)
    order = await app.services.checkout.place(BUYER, await earbuds(app, ready), address_id=ready["address"],
                                              coupon_ids=[])
    app.clock.advance(days=20)  # the certificate has expired since
    assert (await app.services.coupons.certificate(BUYER, cert)).certificate.is_expired(app.clock.now())
    preview = (await app.services.orders.cancel_preview(BUYER, order.id)).refund
    assert preview is not None and preview.certificates_until == app.clock.now() + RENEWED_FOR
    await app.services.orders.cancel(BUYER, order.id, "changed_mind")
    renewed = (await app.services.coupons.certificate(BUYER, cert)).certificate
    assert renewed.balance_minor == 5000 and renewed.valid_to == app.clock.now() + RENEWED_FOR
    async with app.services.db.read() as conn:
        payloads = (await conn.execute(select(outbox_t.c.payload).where(
            outbox_t.c.user_id == BUYER, outbox_t.c.kind == REFUND_KIND.key))).scalars().all()
    told = [json.loads(p) if isinstance(p, str) else p for p in payloads]
    assert [(p["destination"], p["renewed_until"]) for p in told] == [("certificate", renewed.valid_to.isoformat())]


async def test_a_certificate_with_time_left_keeps_its_date(app: App, ready: dict[str, int]) -> None:
    cert = await certificate(app, 5000, days=90)
    before = (await app.services.coupons.certificate(BUYER, cert)).certificate.valid_to
    order = await app.services.checkout.place(BUYER, await earbuds(app, ready), address_id=ready["address"],
                                              coupon_ids=[])
    preview = (await app.services.orders.cancel_preview(BUYER, order.id)).refund
    assert preview is not None and preview.certificates_until is None
    await app.services.orders.cancel(BUYER, order.id, "changed_mind")
    assert (await app.services.coupons.certificate(BUYER, cert)).certificate.valid_to == before


async def test_a_cancelled_paid_order_gives_its_coupons_back_too(app: App, ready: dict[str, int]) -> None:
    coupon_id = await coupon(app, 500)
    card_id = await add_card(app, BUYER)
    order = await app.services.checkout.place(BUYER, await earbuds(app, ready), address_id=ready["address"],
                                              coupon_ids=[coupon_id])
    await app.services.pay.pay(BUYER, order.id, card_id)
    assert (await app.services.coupons.coupon(BUYER, coupon_id)).status == "used"
    card = await app.services.orders.cancel(BUYER, order.id, "changed_mind")
    assert [(r.destination, r.amount_minor) for r in card.refunds] == [(RefundTo.card, 2499)]  # what was paid
    assert (await app.services.coupons.coupon(BUYER, coupon_id)).status == "active"
