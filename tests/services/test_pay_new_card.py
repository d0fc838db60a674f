""""Pay with a new card" — the end of the add-card flow (`PayService.new_card`), directly: a card
added from the wallet is saved; one added to pay an order and not kept pays once and never enters
the wallet; one to keep is saved and then pays; a card refused at the last moment pays nothing; a
declined payment is returned, not raised; leaving the flow is atomic with recording the card."""

from __future__ import annotations

import pytest

from bot.services.cards import PaymentDeclined
from bot.services.orders import Status
from bot.services.pay import pays_once
from tests.conftest import App
from tests.orderkit import place
from tests.services.test_pay import ALEX, add_card, gateway, row, verified_card


class Left:
    """Stands for the flow's `state.clear`: counts the calls."""

    def __init__(self) -> None:
        self.times = 0

    async def __call__(self) -> None:
        self.times += 1


def test_a_card_pays_once_only_for_an_order_and_not_to_keep() -> None:
    assert pays_once(7, save=False)
    assert not pays_once(7, save=True)
    assert not pays_once(None, save=False) and not pays_once(0, save=True)


async def test_from_the_wallet_the_card_is_saved_and_nothing_is_charged(app: App) -> None:
    verified = await verified_card(app, ALEX, "4242424242424242")
    left = Left()
    result = await app.services.pay.new_card(ALEX, verified, order_id=None, save=True, replaces=None, leave=left)
    assert result.saved is not None and result.saved.card.last4 == "4242"
    assert (result.refused, result.paid, result.failed, left.times) == (None, None, None, 1)
    assert [c.id for c in await app.services.cards.wallet(ALEX)] == [result.saved.card.id]
    assert gateway(app).charges == []


async def test_not_kept_it_pays_once_and_never_enters_the_wallet(app: App) -> None:
    order = await place(app.services, ALEX)
    verified = await verified_card(app, ALEX, "5555555555554444", for_wallet=False)
    result = await app.services.pay.new_card(ALEX, verified, order_id=order.id, save=False, replaces=None,
                                             leave=Left())
    assert result.saved is None and result.paid is not None and not result.paid.card_kept
    assert result.paid.card.card_id is None and result.paid.card.last4 == "4444"
    assert list(await app.services.cards.wallet(ALEX)) == []
    assert (await row(app, order.id)).status == Status.awaiting_shipment


async def test_kept_it_is_saved_then_pays_as_a_wallet_card(app: App) -> None:
    order = await place(app.services, ALEX)
    verified = await verified_card(app, ALEX, "5555555555554444")
    result = await app.services.pay.new_card(ALEX, verified, order_id=order.id, save=True, replaces=None,
                                             leave=Left())
    assert result.saved is not None and result.paid is not None
    assert result.paid.card.card_id == result.saved.card.id and result.paid.card_kept
    assert (await row(app, order.id)).paid_card_id == result.saved.card.id


async def test_a_card_refused_at_the_last_moment_pays_nothing(app: App) -> None:
    for number in ("4242424242424242", "2200000000000004", "6200000000000005", "3566002020360505"):
        await add_card(app, ALEX, number)
    order = await place(app.services, ALEX)
    verified = await verified_card(app, ALEX, "5555555555554444")  # the fifth: there is room
    await add_card(app, ALEX, "6759649826438453")  # meanwhile, in another chat: now there is none
    left = Left()
    result = await app.services.pay.new_card(ALEX, verified, order_id=order.id, save=True, replaces=None,
                                             leave=left)
    assert result.refused is not None and (result.saved, result.paid, result.failed) == (None, None, None)
    assert left.times == 1  # the flow is left all the same
    assert gateway(app).charges == [] and (await row(app, order.id)).status == Status.awaiting_payment


async def test_a_declined_payment_is_returned_and_the_order_stays_unpaid(app: App) -> None:
    order = await place(app.services, ALEX)
    verified = await verified_card(app, ALEX, "4000000000000341", for_wallet=False)
    result = await app.services.pay.new_card(ALEX, verified, order_id=order.id, save=False, replaces=None,
                                             leave=Left())
    assert isinstance(result.failed, PaymentDeclined) and result.paid is None
    assert (await row(app, order.id)).status == Status.awaiting_payment


async def test_leaving_the_flow_is_atomic_with_saving_the_card(app: App) -> None:
    verified = await verified_card(app, ALEX, "4242424242424242")

    async def leave_fails() -> None:
        raise RuntimeError("the FSM write failed")

    with pytest.raises(RuntimeError):
        await app.services.pay.new_card(ALEX, verified, order_id=None, save=True, replaces=None, leave=leave_fails)
    assert list(await app.services.cards.wallet(ALEX)) == []  # rolled back with it
