"""The sandbox gateway forgets what is done with after its retention (issue 15, item 13): a
long-running process does not keep every charge, refund and hold for ever, yet keeps what a
refund or a refund's status still needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.integrations.payments import (
    CardDeclined,
    InvalidRequest,
    SandboxGateway,
    SandboxRetention,
    UnknownPayment,
)
from bot.services.cards import detect_brand
from bot.services.clock import FakeClock

DAY = timedelta(days=1)


async def token_and_hold(gateway: SandboxGateway, number: str, key: str) -> tuple[str, str]:
    session = await gateway.start_card_session()
    await gateway.submit_number(session, number)
    await gateway.submit_expiry(session, 12, 2030)
    await gateway.submit_holder(session, "ALEX JOHNSON")
    verified = await gateway.verify(session, "123", amount_minor=100, currency="USD", idempotency_key=key)
    return verified.token, verified.hold.id


async def test_finished_charges_refunds_and_holds_are_forgotten_after_their_retention() -> None:
    clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    gateway = SandboxGateway(clock, b"k" * 32, detect_brand, retention=SandboxRetention(
        charge=timedelta(days=400), refund=timedelta(days=30), hold=timedelta(days=7),
        released=DAY, every=timedelta(hours=1)))
    token, released = await token_and_hold(gateway, "4242424242424242", "verify:1")
    _, kept_hold = await token_and_hold(gateway, "5555555555554444", "verify:2")
    poor, poor_hold = await token_and_hold(gateway, "4000000000000341", "verify:3")
    await gateway.release_hold(released)
    open_charge = await gateway.charge(token, 1000, "USD", "order:1:pay")
    refunded = await gateway.charge(token, 2000, "USD", "order:2:pay")
    partly = await gateway.charge(token, 3000, "USD", "order:3:pay")
    full = await gateway.refund(refunded.id, 2000, "USD", "refund:1")
    part = await gateway.refund(partly.id, 1000, "USD", "refund:2")
    with pytest.raises(CardDeclined):
        await gateway.charge(poor, 500, "USD", "order:4:pay")
    await gateway.detach(poor)

    # two days on: the released hold and the declined charge's key are forgotten; the rest stays
    clock.advance(2 * DAY)
    assert await gateway.get_refund(full.id) == full  # a call sweeps (at most hourly)
    assert set(gateway.holds) == {kept_hold, poor_hold}
    assert "order:4:pay" not in gateway._charge_keys
    assert len(gateway.charges) == 3 and len(gateway.refunds) == 2
    # a retried refund within the retention is the same refund, never a second one
    assert await gateway.refund(refunded.id, 2000, "USD", "refund:1") == full

    # a week on: the hold never released has lapsed
    clock.advance(6 * DAY)
    await gateway.get_refund(full.id)
    assert gateway.holds == {}

    # a month after the refunds: the charge refunded in full and both refunds are forgotten; the
    # open and the partly refunded charges stay, with what was refunded of them
    clock.advance(30 * DAY)
    with pytest.raises(UnknownPayment):
        await gateway.get_refund(full.id)
    assert {c.id for c in gateway.charges} == {open_charge.id, partly.id}
    assert gateway.refunds == [] and gateway._refund_keys == {} and gateway._refunds_by_id == {}
    with pytest.raises(InvalidRequest):  # still checked against the charge: 1000 of 3000 refunded
        await gateway.refund(partly.id, 2001, "USD", "refund:3")
    assert (await gateway.refund(partly.id, 2000, "USD", "refund:4")).amount_minor == 2000
    assert await gateway.charge(token, 1000, "USD", "order:1:pay") == open_charge  # its key stays
    assert poor in gateway.detached

    # past the longest refund window nothing is left (a late refund is trusted, as after a restart)
    clock.advance(400 * DAY)
    with pytest.raises(UnknownPayment):
        await gateway.get_refund(part.id)
    assert gateway.charges == [] and gateway.refunds == [] and gateway.holds == {}
    assert gateway.detached == set() and gateway._charge_keys == {} and gateway._refunded == {}
    assert (await gateway.refund(open_charge.id, 1000, "USD", "refund:5")).amount_minor == 1000
