"""/ops through the Dispatcher: the operators in ADMIN_IDS see refunds that wait for them, refunds on
their way, refunds paid outside the gateway and failed notifications, and can send a stuck refund or
the failed notifications again; for anyone else neither the command nor its buttons exist."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.fakebot import Player
from bot.integrations.payments import InvalidRequest, SandboxGateway
from bot.keyboards.ops import OpsAction, OpsCb
from bot.runner import build_sweeper
from bot.services.errors import DomainError
from bot.services.refunds import Payout
from tests.conftest import App
from tests.orderkit import make_order, place
from tests.services.test_pay import add_card, gateway
from tests.services.test_payment_attempts import database_locked_on

ALEX, MASHA = 1001, 2002  # the operators


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_ids": (ALEX, MASHA)})


async def test_operators_see_and_send_again_what_waits_for_them(app: App, alex: Player,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    await alex.send("/ops")
    assert alex.last_text.startswith("<b>🛠 Operations</b>\n\n✅ No refund waits for an operator.\n"
                                     "0 refunds are on their way through the payment service.\n\n")
    # a buyer's refund the gateway refuses, one of an order paid outside it, and a failed push
    buyer = 5005
    card_id = await add_card(app, buyer)
    order = await place(app.services, buyer)
    await app.services.pay.pay(buyer, order.id, card_id)
    refund = await app.services.orders.refund(buyer, order.id)
    real = SandboxGateway.refund

    async def refuse(self, *args, **kwargs):
        raise InvalidRequest("more than was charged")

    monkeypatch.setattr(SandboxGateway, "refund", refuse)
    await app.services.refunds.pay_out_due(app.clock.now())
    outside = await make_order(app.services, app.clock, buyer, "awaiting_shipment")
    await app.services.orders.cancel(buyer, outside.id, "changed_mind")
    async with app.services.db.write() as conn:
        await conn.execute(text("UPDATE outbox SET state = 'failed' WHERE id = (SELECT min(id) FROM outbox)"))

    await alex.send("/ops")
    shown = alex.last_text
    assert "⚠️ 1 refund waits for an operator: the payment service refused it." in shown
    assert f"• Refund {refund.id}, order #{order.number}: $37.99 (refused: InvalidRequest)" in shown
    assert "1 refund of an order paid outside the payment service" in shown
    assert "⚠️ 1 notification failed for good" in shown
    labels = [t for t, _ in alex.buttons()]
    assert labels[:3] == [f"🔁 Send refund {refund.id} again", "🔁 Send the failed notifications again", "🔄 Refresh"]

    monkeypatch.setattr(SandboxGateway, "refund", real)
    await alex.press(f"🔁 Send refund {refund.id} again")
    assert alex.last_text.startswith(f"Refund {refund.id} goes to the payment service again at the next sweep.")
    assert "1 refund is on its way through the payment service." in alex.last_text
    await alex.press_data(OpsCb(action=OpsAction.refund, id=refund.id).pack())  # twice: still one refund
    assert alex.last_text.startswith(f"Refund {refund.id} goes to the payment service again")
    await build_sweeper(app.services)(app.clock.now())
    assert len(gateway(app).refunds) == 1
    await alex.press_data(OpsCb(action=OpsAction.refund, id=refund.id).pack())  # completed by now: a polite no
    assert alex.last_text.startswith("This refund can't be sent to the payment service again")
    await alex.press("🔄 Refresh")
    assert "✅ No refund waits for an operator." in alex.last_text
    assert [r.where for r in await app.services.refunds.pending()] == [Payout.outside]  # only the one paid outside is left
    await alex.press("🔁 Send the failed notifications again")
    assert alex.last_text.startswith("1 notification goes out again.")
    assert "failed for good" not in alex.last_text


async def test_for_anyone_else_there_is_no_such_command(app: App) -> None:
    bob = app.player(3003, first_name="Bob")
    await bob.send("/ops")
    assert bob.last_text.startswith("I respond to buttons and commands.")
    await bob.press_data(OpsCb(action=OpsAction.pushes).pack())
    assert bob.alerts() == ["This button is no longer active."]
    assert await app.services.outbox.dead_letters() == []


async def test_russian_operator(app: App, masha: Player) -> None:
    await masha.send("/ops")
    assert masha.last_text.startswith("<b>🛠 Операции</b>\n\n✅ Возвратов, ожидающих оператора, нет.\n"
                                      "0 возвратов проходят через платёжный сервис.")


async def _a_payment_nobody_can_check(app: App, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A buyer's payment whose answer was lost (the database refused the write after the charge),
    and a gateway that can't be asked about it at the sweeper's check."""
    buyer = 5005
    card_id = await add_card(app, buyer)
    order = await place(app.services, buyer)

    async def unreachable(self: Any, *args: Any) -> Any:
        raise ConnectionResetError("the gateway's answer was lost")

    monkeypatch.setattr(SandboxGateway, "find_charge", unreachable)
    with database_locked_on(app, "UPDATE orders"), pytest.raises(DomainError):
        await app.services.pay.pay(buyer, order.id, card_id)
    app.clock.advance(minutes=3)
    await build_sweeper(app.services)(app.clock.now())
    return order


async def test_payments_the_gateway_could_not_be_asked_about_are_shown_until_it_answers(
        app: App, alex: Player, monkeypatch: pytest.MonkeyPatch) -> None:
    order = await _a_payment_nobody_can_check(app, monkeypatch)
    await alex.send("/ops")
    shown = alex.last_text
    assert ("⚠️ 1 payment could not be checked with the payment service; it is asked again every hour "
            "until it answers. Look it up in the payment service:") in shown
    assert f"• Order #{order.number}, $37.99, since " in shown
    assert ": was it charged? — asked 1 time (ConnectionResetError)" in shown
    app.clock.advance(hours=1)
    await build_sweeper(app.services)(app.clock.now())
    await alex.press("🔄 Refresh")
    assert "asked 2 times (ConnectionResetError)" in alex.last_text
    monkeypatch.undo()  # the gateway answers again: the payment is settled, and gone from /ops
    app.clock.advance(hours=1)
    await build_sweeper(app.services)(app.clock.now())
    await alex.press("🔄 Refresh")
    assert "could not be checked" not in alex.last_text
    assert len(gateway(app).charges) == 1


async def test_payments_not_checked_in_russian(app: App, masha: Player, monkeypatch: pytest.MonkeyPatch) -> None:
    order = await _a_payment_nobody_can_check(app, monkeypatch)
    await masha.send("/ops")
    shown = masha.last_text
    assert "⚠️ 1 платёж не удалось проверить в платёжном сервисе" in shown
    assert f"• Заказ № {order.number}, 37,99\xa0$, с " in shown
    assert ": было ли списание? — 1 запрос (ConnectionResetError)" in shown


async def test_escalated_disputes_wait_for_the_platform_priority_first(app: App, alex: Player,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services import loyalty
    from bot.services.disputes import SellerAnswer
    from tests.services.test_disputes import draft

    async def level_of(conn: Any, user_id: int) -> int:
        return 4 if user_id == 5006 else 1

    monkeypatch.setattr(loyalty, "level_of", level_of)
    disputes, numbers = app.services.disputes, []
    for buyer in (5005, 5006):
        order = await make_order(app.services, app.clock, buyer, "shipped")
        dispute = await disputes.open(buyer, order.id, draft())
        await disputes.seller_answer(dispute.id, SellerAnswer.reject, note="No, it works.")
        await disputes.escalate(buyer, dispute.id)
        numbers.append(order.number)
    app.clock.advance(days=6)  # the priority one's day has passed
    await alex.send("/ops")
    lines = alex.last_text.split("\n")
    head = lines.index("⚖️ 2 disputes wait for the platform's decision (<code>main.py order decide NUMBER</code>):")
    assert lines[head + 1].startswith(f"• ⚡ Order #{numbers[1]}, $37.99 asked, decide by ")  # priority first
    assert lines[head + 1].endswith(" (overdue)")
    assert lines[head + 2].startswith(f"• Order #{numbers[0]}, $37.99 asked") and "overdue" not in lines[head + 2]
    # the sweeper leaves them to the platform: escalated is not "not answered"
    assert (await build_sweeper(app.services)(app.clock.now()))["disputes_overdue"] == 0
    await disputes.decide((await disputes.for_order_number(numbers[1])).id, 0)
    await alex.press("🔄 Refresh")
    assert "⚖️ 1 dispute waits for the platform's decision" in alex.last_text


async def test_a_return_the_store_says_did_not_come_back_shows_the_track_and_the_stores_words(
        app: App, alex: Player) -> None:
    from bot.services.disputes import DisputeReason, Outcome, SellerAnswer
    from tests.services.test_disputes import draft

    disputes = app.services.disputes
    order = await make_order(app.services, app.clock, 5007, "shipped")
    dispute = await disputes.open(5007, order.id, draft(Outcome.return_refund, reason=DisputeReason.wrong_item))
    await disputes.seller_answer(dispute.id, SellerAnswer.accept, note="Returns desk, 1 Dock Road")
    await disputes.send_back(5007, dispute.id, "RR123456789LV")
    await disputes.return_problem(dispute.id, "The parcel held a <brick>.")
    await alex.send("/ops")
    assert ("   ↩️ A return, track <code>RR123456789LV</code>. The store: <i>The parcel held a &lt;brick&gt;.</i>"
            in alex.last_text.split("\n"))
