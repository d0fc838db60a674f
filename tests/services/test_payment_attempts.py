"""Record, then call, then reconcile (issue 15, item 1): whatever happens between the gateway's
charge and the database write — a database error, a killed process, a gateway that times out and
charges late — the order ends paid once or its money is given back; it is never charged and
cancelled. The sweeper asks the gateway about every attempt whose outcome is unknown."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

import bot.app
from bot.db import orders as orders_repo
from bot.integrations.payments import SandboxGateway
from bot.runner import build_sweeper
from bot.services.errors import DomainError
from bot.services.orders import Status
from tests.botproc import module_py
from tests.conftest import App
from tests.orderkit import place
from tests.paykill import FileSandbox
from tests.services.test_pay import add_card

ALEX = 1001


def gateway(app: App) -> SandboxGateway:
    assert isinstance(app.services.payments, SandboxGateway)
    return app.services.payments


async def row(app: App, order_id: int):
    async with app.services.db.read() as conn:
        return await orders_repo.get(conn, order_id)


@contextmanager
def database_locked_on(app: App, prefix: str, times: int = 1) -> Iterator[list[int]]:
    """The next `times` statements starting with `prefix` fail as SQLite fails when another
    process holds the write lock past the busy timeout."""
    engine = app.services.db.writer.sync_engine
    left = [times]

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if left[0] > 0 and statement.lstrip().upper().startswith(prefix.upper()):
            left[0] -= 1
            raise sqlite3.OperationalError("database is locked")

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield left
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def sweep(app: App, **advance: float) -> dict[str, int]:
    app.clock.advance(**advance)
    return await build_sweeper(app.services)(app.clock.now())


async def assert_paid_once(app: App, order_id: int) -> None:
    after = await row(app, order_id)
    charges = gateway(app).charges
    assert len(charges) == 1, charges
    assert (after.status, after.paid_charge_id) == (Status.awaiting_shipment, charges[0].id)
    assert gateway(app).refunds == []


async def test_a_database_error_after_the_charge_ends_paid_once(app: App) -> None:
    card_id = await add_card(app, ALEX)
    order = await place(app.services, ALEX)
    with database_locked_on(app, "UPDATE orders") as left:
        with pytest.raises(DomainError):  # an answer for the buyer, not a crash
            await app.services.pay.pay(ALEX, order.id, card_id)
    assert left == [0] and len(gateway(app).charges) == 1
    assert (await row(app, order.id)).status == Status.awaiting_payment  # the charge is not recorded yet
    await sweep(app, minutes=3)
    await sweep(app, hours=25)  # long past the time to pay: the order is not cancelled under the charge
    await assert_paid_once(app, order.id)


async def test_the_unpaid_order_is_not_cancelled_while_its_payment_is_unknown(app: App) -> None:
    card_id = await add_card(app, ALEX)
    order = await place(app.services, ALEX)
    gw = gateway(app)

    async def unreachable(*args: Any) -> Any:
        raise ConnectionResetError("the gateway's answer was lost")

    gw.find_charge = unreachable  # type: ignore[method-assign]
    with database_locked_on(app, "UPDATE orders"):
        with pytest.raises(DomainError):
            await app.services.pay.pay(ALEX, order.id, card_id)
    await sweep(app, hours=25)  # the gateway can't be asked: the order waits, not cancelled
    assert (await row(app, order.id)).status == Status.awaiting_payment
    del gw.find_charge  # the gateway answers again
    await sweep(app, hours=1)
    await assert_paid_once(app, order.id)


async def test_a_process_killed_after_the_charge_ends_paid_once(app: App, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    card_id = await add_card(app, ALEX)
    order = await place(app.services, ALEX)
    state = tmp_path / "gateway.json"
    proc = await module_py("tests.paykill", app.settings.database_url, str(state), app.clock.now().isoformat(),
                           str(ALEX), str(order.id), str(card_id))
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        if not line.startswith(b"charged "):
            proc.kill()
            raise AssertionError((line, (await proc.communicate())[0]))
        proc.send_signal(signal.SIGKILL)  # between the gateway's charge and the database write
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # a new process, with the gateway's memory of what it charged
    monkeypatch.setattr(bot.app, "SandboxGateway", FileSandbox.at(state))
    await app.restart()
    charged = line.split()[1].decode()
    assert [c.id for c in gateway(app).charges] == [charged]
    assert (await row(app, order.id)).status == Status.awaiting_payment
    await sweep(app, minutes=3)
    await sweep(app, hours=25)
    await assert_paid_once(app, order.id)


def times_out(app: App) -> list[tuple[Any, ...]]:
    """The gateway's next charges time out on our side; the requests are kept to be carried out late."""
    gw = gateway(app)
    late: list[tuple[Any, ...]] = []

    async def timeout(*args: Any) -> Any:
        late.append(args)
        raise TimeoutError("the gateway did not answer in time")

    gw.charge = timeout  # type: ignore[method-assign]
    return late


@dataclass
class TimedOut:
    order_id: int
    card_id: int
    gw: SandboxGateway
    late: list[tuple[Any, ...]]  # the charge requests the gateway has yet to carry out


async def a_pay_that_timed_out(app: App) -> TimedOut:
    """Alex pays an order with a saved card and the gateway's answer never comes (the request is
    kept to be carried out late); the pay failed, and the gateway answers again from then on."""
    card_id = await add_card(app, ALEX)
    order = await place(app.services, ALEX)
    gw = gateway(app)
    late = times_out(app)
    with pytest.raises(DomainError):
        await app.services.pay.pay(ALEX, order.id, card_id)
    del gw.charge
    return TimedOut(order.id, card_id, gw, late)


async def test_a_gateway_timeout_with_a_late_success_ends_paid_once(app: App) -> None:
    t = await a_pay_that_timed_out(app)
    await t.gw.charge(*t.late[0])  # the gateway carries the request out after all
    await sweep(app, minutes=3)
    await sweep(app, hours=25)
    await assert_paid_once(app, t.order_id)


async def test_a_late_success_after_the_order_was_cancelled_is_voided(app: App) -> None:
    t = await a_pay_that_timed_out(app)
    await app.services.orders.cancel(ALEX, t.order_id, "changed_mind")  # the buyer gave up meanwhile
    await t.gw.charge(*t.late[0])
    await sweep(app, minutes=3)
    [charge] = t.gw.charges
    assert [(r.charge_id, r.amount_minor) for r in t.gw.refunds] == [(charge.id, charge.amount_minor)]
    after = await row(app, t.order_id)
    assert (after.status, after.paid_charge_id) == (Status.cancelled, None)
    await sweep(app, hours=25)
    assert len(t.gw.refunds) == 1  # voided once


async def test_a_timeout_that_charged_nothing_fails_and_the_next_pay_is_a_new_request(app: App) -> None:
    t = await a_pay_that_timed_out(app)
    with pytest.raises(DomainError):  # the outcome is still unknown: no second request meanwhile
        await app.services.pay.pay(ALEX, t.order_id, t.card_id)
    assert t.gw.charges == []
    await sweep(app, minutes=3)  # the gateway has no charge with that key: the attempt failed
    after = await row(app, t.order_id)
    assert (after.status, after.pay_attempts) == (Status.awaiting_payment, 1)
    paid = await app.services.pay.pay(ALEX, t.order_id, t.card_id)
    assert paid.order.status == Status.awaiting_shipment
    await t.gw.charge(*t.late[0])  # a very late request with the old key: not the order's charge
    assert len(t.gw.charges) == 2 and paid.order.paid_charge_id == t.gw.charges[0].id
    async with app.services.db.read() as conn:
        states = (await conn.execute(text(
            "SELECT idempotency_key, state FROM payment_attempts WHERE order_id = :o ORDER BY id"),
            {"o": t.order_id})).all()
    assert states == [(t.late[0][3], "failed"), (f"order:{t.order_id}:pay:1", "succeeded")]


async def test_a_charge_the_order_could_not_take_is_given_back_by_the_sweeper_when_the_void_fails(app: App) -> None:
    card_id = await add_card(app, ALEX)
    order = await place(app.services, ALEX)
    orders, gw = app.services.orders, gateway(app)
    real_mark_paid = orders.mark_paid

    async def cancelled_meanwhile(*args: Any, **kwargs: Any) -> Any:
        await orders.cancel(ALEX, order.id, "changed_mind")
        return await real_mark_paid(*args, **kwargs)

    async def refund_down(*args: Any) -> Any:
        raise ConnectionResetError("the gateway is down")

    orders.mark_paid = cancelled_meanwhile  # type: ignore[method-assign]
    gw.refund = refund_down  # type: ignore[method-assign]
    with pytest.raises(DomainError):  # "cancelled": the buyer sees why
        await app.services.pay.pay(ALEX, order.id, card_id)
    assert len(gw.charges) == 1 and gw.refunds == []
    del orders.mark_paid, gw.refund
    await sweep(app, minutes=1)  # the money still owed goes back at the next sweep
    [charge] = gw.charges
    assert [(r.charge_id, r.amount_minor) for r in gw.refunds] == [(charge.id, charge.amount_minor)]
    await sweep(app, hours=1)
    assert len(gw.refunds) == 1
    async with app.services.db.read() as conn:
        pushes = (await conn.execute(text(
            "SELECT payload FROM outbox WHERE kind = 'payment_checked' AND user_id = :u"), {"u": ALEX})).all()
    assert len(pushes) == 1 and '"outcome": "voided"' in pushes[0][0]
