"""Refunds are paid out through the payment gateway by the sweeper: the charge that paid, the key
"refund:<id>" (so a retry never refunds twice), completion and the buyer's push when the gateway says
the money went back, retries with a growing pause, refusals left to an operator, and refunds of
orders paid outside the gateway left to an operator from the start."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import main
from bot.cli.common import perform
from bot.db import outbox as outbox_repo
from bot.db import refunds as refunds_repo
from bot.db.engine import Database
from bot.integrations.payments import (
    CardDeclined,
    DeclineReason,
    InvalidRequest,
    Refund,
    RefundStatus,
    SandboxGateway,
)
from bot.runner import build_sweeper
from bot.services.disputes import DisputeDraft, DisputeReason, Outcome
from bot.services.refunds import GatewayPaysIt, RefundAlreadyCompleted, RefundNotRetriable, retry_pause
from tests.conftest import App
from tests.orderkit import make_order, place
from tests.plankit import plan, reading, recording
from tests.services.test_pay import ALEX, add_card, gateway


async def paid_order(app: App, number: str = "4242424242424242"):
    card_id = await add_card(app, ALEX, number)
    order = await place(app.services, ALEX)
    await app.services.pay.pay(ALEX, order.id, card_id)
    return await app.services.orders.by_number(order.number)


async def refund_row(app: App, refund_id: int):
    async with app.services.db.read() as conn:
        row = await refunds_repo.get(conn, refund_id)
    assert row is not None
    return row


async def pushes(app: App, refund_id: int) -> list[str]:
    async with app.services.db.read() as conn:
        rows = await outbox_repo.for_user(conn, ALEX)
    return [r.dedupe_key for r in rows if r.dedupe_key.startswith(f"refund:{refund_id}:")]


async def test_a_cancelled_paid_order_is_refunded_to_its_charge_once_and_the_buyer_told(app: App) -> None:
    order = await paid_order(app)
    charge = gateway(app).charges[0]
    await app.services.orders.cancel(ALEX, order.id, "changed_mind")
    [refund] = (await app.services.orders.card(ALEX, order.id)).refunds
    assert (refund.charge_id, refund.state, refund.next_attempt_at) == (charge.id, "pending", app.clock.now())

    done = await build_sweeper(app.services)(app.clock.now())
    assert done["refunds_pay_out"] == 1
    [sent] = gateway(app).refunds
    assert (sent.charge_id, sent.amount_minor, sent.currency) == (charge.id, order.total_minor, "USD")
    after = await refund_row(app, refund.id)
    assert (after.state, after.gateway_refund_id, after.completed_at) == ("completed", sent.id, app.clock.now())
    assert after.next_attempt_at is None
    assert await pushes(app, refund.id) == [f"refund:{refund.id}:issued", f"refund:{refund.id}:completed"]

    app.clock.advance(hours=1)
    assert await app.services.refunds.pay_out_due(app.clock.now()) == 0
    assert len(gateway(app).refunds) == 1
    with pytest.raises(RefundAlreadyCompleted):
        await app.services.refunds.complete(refund.id)


async def test_a_crash_after_the_gateway_refunded_sends_the_same_key_and_refunds_once(app: App) -> None:
    order = await paid_order(app)
    refund = await app.services.orders.refund(ALEX, order.id, 500)
    # the gateway refunded, then the process died before writing it down
    await gateway(app).refund(refund.charge_id, 500, "USD", idempotency_key=f"refund:{refund.id}")
    assert await app.services.refunds.pay_out_due(app.clock.now()) == 1
    assert len(gateway(app).refunds) == 1 and gateway(app)._refunded[refund.charge_id] == 500
    assert (await refund_row(app, refund.id)).state == "completed"


async def test_partial_refunds_of_one_charge_are_each_paid_out(app: App) -> None:
    order = await paid_order(app)
    first = await app.services.orders.refund(ALEX, order.id, 500)
    second = await app.services.orders.refund(ALEX, order.id)  # the rest
    assert await app.services.refunds.pay_out_due(app.clock.now()) == 2
    assert sorted(r.amount_minor for r in gateway(app).refunds) == sorted([500, order.total_minor - 500])
    assert {(await refund_row(app, r.id)).state for r in (first, second)} == {"completed"}


async def test_a_temporary_failure_is_retried_after_a_growing_pause(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    order = await paid_order(app)
    refund = await app.services.orders.refund(ALEX, order.id)
    real = SandboxGateway.refund
    failures = [ConnectionError("timeout"), CardDeclined(DeclineReason.processing_error)]

    async def flaky(self, *args, **kwargs):
        if failures:
            raise failures.pop(0)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(SandboxGateway, "refund", flaky)
    start = app.clock.now()
    assert await app.services.refunds.pay_out_due(start) == 0
    row = await refund_row(app, refund.id)
    assert (row.attempts, row.last_error, row.next_attempt_at) == (1, "error: ConnectionError", start + timedelta(minutes=5))
    assert await app.services.refunds.pay_out_due(start + timedelta(minutes=4)) == 0  # not due yet
    assert len(failures) == 1
    assert await app.services.refunds.pay_out_due(start + timedelta(minutes=5)) == 0
    row = await refund_row(app, refund.id)
    assert (row.attempts, row.last_error) == (2, "declined: processing_error")
    assert row.next_attempt_at == start + timedelta(minutes=15)  # 5 + 10
    assert await app.services.refunds.pay_out_due(start + timedelta(minutes=15)) == 1
    row = await refund_row(app, refund.id)
    assert (row.state, row.last_error) == ("completed", None)
    assert [retry_pause(n) for n in (1, 2, 3, 8, 20)] == [
        timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20), timedelta(hours=6), timedelta(hours=6)]


async def test_a_refusal_waits_for_an_operator_who_can_send_it_again(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    order = await paid_order(app)
    refund = await app.services.orders.refund(ALEX, order.id)
    real = SandboxGateway.refund

    async def refuse(self, *args, **kwargs):
        raise InvalidRequest("more than was charged")

    monkeypatch.setattr(SandboxGateway, "refund", refuse)
    assert await app.services.refunds.pay_out_due(app.clock.now()) == 0
    row = await refund_row(app, refund.id)
    assert (row.state, row.next_attempt_at, row.last_error) == ("pending", None, "refused: InvalidRequest")
    assert await app.services.refunds.pay_out_due(app.clock.now() + timedelta(days=3)) == 0
    lines = await operator_out(app, "refunds")
    assert f"refund {refund.id} (order {order.number})" in lines and "NEEDS AN OPERATOR" in lines

    monkeypatch.setattr(SandboxGateway, "refund", real)
    assert "next sweep" in await operator_out(app, "refund-retry", str(refund.id))
    assert await app.services.refunds.pay_out_due(app.clock.now()) == 1
    assert (await refund_row(app, refund.id)).state == "completed"
    with pytest.raises(RefundNotRetriable):
        await app.services.refunds.retry(refund.id)
    assert await operator_out(app, "refunds") == "no pending refunds"


async def test_a_refund_the_gateway_accepted_is_asked_about_until_it_succeeds(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    order = await paid_order(app)
    refund = await app.services.orders.refund(ALEX, order.id)
    answers = [RefundStatus.pending, RefundStatus.pending, RefundStatus.succeeded]
    asked: list[str] = []

    async def slow_refund(self, charge_id, amount_minor, currency, idempotency_key):
        return Refund("re_slow", charge_id, amount_minor, currency, answers.pop(0))

    async def get_refund(self, refund_id):
        asked.append(refund_id)
        return Refund(refund_id, "ch", 1, "USD", answers.pop(0))

    monkeypatch.setattr(SandboxGateway, "refund", slow_refund)
    monkeypatch.setattr(SandboxGateway, "get_refund", get_refund)
    start = app.clock.now()
    assert await app.services.refunds.pay_out_due(start) == 0
    row = await refund_row(app, refund.id)
    assert (row.gateway_refund_id, row.submitted_at, row.next_attempt_at) == ("re_slow", start, start + timedelta(hours=1))
    assert "accepted by the gateway as re_slow" in await operator_out(app, "refunds")
    assert await app.services.refunds.pay_out_due(start + timedelta(hours=1)) == 0
    assert await app.services.refunds.pay_out_due(start + timedelta(hours=2)) == 1
    assert asked == ["re_slow", "re_slow"]
    row = await refund_row(app, refund.id)
    assert (row.state, row.submitted_at, row.completed_at) == ("completed", start, start + timedelta(hours=2))


async def test_a_refund_the_gateway_could_not_pay_out_waits_for_an_operator(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    order = await paid_order(app)
    refund = await app.services.orders.refund(ALEX, order.id)

    async def failed(self, charge_id, amount_minor, currency, idempotency_key):
        return Refund("re_failed", charge_id, amount_minor, currency, RefundStatus.failed)

    monkeypatch.setattr(SandboxGateway, "refund", failed)
    assert await app.services.refunds.pay_out_due(app.clock.now()) == 0
    row = await refund_row(app, refund.id)
    assert (row.state, row.next_attempt_at, row.last_error) == ("pending", None, "failed at the gateway")
    assert await pushes(app, refund.id) == [f"refund:{refund.id}:issued"]  # no "paid" push
    with pytest.raises(GatewayPaysIt):  # the shop API's confirmation is for refunds paid outside the gateway
        await app.services.refunds.complete(refund.id, outside_only=True)
    await app.services.refunds.complete(refund.id)  # the operator paid it another way
    assert await pushes(app, refund.id) == [f"refund:{refund.id}:issued", f"refund:{refund.id}:completed"]


async def test_an_order_paid_outside_the_gateway_is_refunded_by_an_operator(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, "awaiting_shipment")  # the operator's `order pay`
    assert order.paid_charge_id is None
    await app.services.orders.cancel(ALEX, order.id, "changed_mind")
    [refund] = (await app.services.orders.card(ALEX, order.id)).refunds
    assert (refund.charge_id, refund.next_attempt_at) == (None, None)
    assert await app.services.refunds.pay_out_due(app.clock.now() + timedelta(days=1)) == 0
    assert gateway(app).refunds == []
    assert "paid outside the gateway" in await operator_out(app, "refunds")
    with pytest.raises(RefundNotRetriable):
        await app.services.refunds.retry(refund.id)
    assert await operator_out(app, "refund-done", str(refund.id)) == f"refund {refund.id} completed"


async def test_a_refund_decided_in_a_dispute_is_paid_out_too(app: App) -> None:
    order = await paid_order(app)
    await app.services.orders.ship(ALEX, order.id, "LP000000001CN", "cainiao")
    app.clock.advance(days=12)
    disputes = app.services.disputes
    dispute = await disputes.open(ALEX, order.id, DisputeDraft(
        DisputeReason.not_as_described, "The colour is not what the photos show.", Outcome.partial_refund, 700, ()))
    await disputes.decide(dispute.id, 700)
    assert await app.services.refunds.pay_out_due(app.clock.now()) == 1
    [sent] = gateway(app).refunds
    assert (sent.charge_id, sent.amount_minor) == (order.paid_charge_id, 700)


async def operator_out(app: App, *argv: str) -> str:
    return await perform(main.parse_args(["order", *argv]), app.services)


def test_the_migration_matches_the_tables_and_sends_old_refunds_of_a_charge(tmp_path: Path,
                                                                              template_db: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from bot.db.migrate import alembic_config
    from bot.db.tables import metadata

    engine = create_engine(f"sqlite:///{template_db}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert [d for d in diff if "refund" in repr(d)] == []

    path = tmp_path / "old.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    command.upgrade(alembic_config(url), "0009_reviews")
    con = sqlite3.connect(path)
    con.executescript("""
        INSERT INTO users (id, locale, created_at) VALUES (1, 'en', '2026-11-01T00:00:00.000000');
        INSERT INTO stores (id, name, created_at) VALUES (1, 'Nova', '2026-11-01T00:00:00.000000');
        INSERT INTO orders (id, user_id, store_id, number, status, currency, items_minor, total_minor,
                            first_title, item_lines, search_text, created_at, paid_charge_id)
            VALUES (1, 1, 1, '1', 'cancelled', 'USD', 100, 100, 'Earbuds', 1, '1 earbuds',
                    '2026-11-01T00:00:00.000000', 'ch_sbx_1'),
                   (2, 1, 1, '2', 'cancelled', 'USD', 100, 100, 'Earbuds', 1, '2 earbuds',
                    '2026-11-01T00:00:00.000000', NULL);
        INSERT INTO refunds (id, order_id, user_id, amount_minor, currency, reason, destination, card_state,
                             state, created_at, expected_at)
            VALUES (1, 1, 1, 100, 'USD', 'cancel', 'card', 'active', 'pending', '2026-11-02T00:00:00.000000',
                    '2026-11-09T00:00:00.000000'),
                   (2, 2, 1, 100, 'USD', 'cancel', 'original', 'unknown', 'pending', '2026-11-02T00:00:00.000000',
                    '2026-11-09T00:00:00.000000');
    """)
    con.commit()
    con.close()
    command.upgrade(alembic_config(url), "head")
    con = sqlite3.connect(path)
    rows = con.execute("SELECT id, charge_id, next_attempt_at, attempts FROM refunds ORDER BY id").fetchall()
    con.close()
    due_plan = asyncio.run(_due_plan(url))  # the sweeper's statement (refunds.due) on the migrated schema
    assert rows == [(1, "ch_sbx_1", "2026-11-02T00:00:00.000000", 0), (2, None, None, 0)]
    assert any("ix_refunds_due" in d for d in due_plan), due_plan
    command.downgrade(alembic_config(url), "0009_reviews")


async def _due_plan(url: str) -> list[str]:
    """SQLite's plan for the statement the refund sweeper runs (refunds.due), recorded as it runs;
    asked before the rows above are due, so that none is read (their times are written with a "T")."""
    db = Database(url)
    try:
        with recording(db) as ran:
            async with db.read() as conn:
                assert await refunds_repo.due(conn, datetime(2026, 11, 1, tzinfo=UTC), 50) == []
        return await plan(db, reading(ran, "refunds"))
    finally:
        await db.dispose()
