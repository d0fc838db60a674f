"""Claims by several processes at once (README "Scale-out"): the outbox's and the shops' webhooks'
claims lock what they take with SKIP LOCKED where the database has it (PostgreSQL; on SQLite the
clauses compile to nothing, the unit of work's BEGIN IMMEDIATE makes claims one at a time), and a
shop's (a user's) later rows are not claimed while an earlier one is held by another run. The
real processes are in tests/test_multi_instance.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement

from bot.db import webhooks as repo
from bot.fakebot import Player
from bot.services.orders.states import CancelReason
from bot.services.outbox import enqueue
from bot.services.users import Contact
from tests.api.conftest import Shop, linked, store
from tests.api.test_webhooks import order
from tests.conftest import App


@contextmanager
def statements(app: App) -> Iterator[list[ClauseElement]]:
    """The SQLAlchemy statements the writer runs inside the block, as objects (to compile them for
    another dialect)."""
    ran: list[ClauseElement] = []

    def listen(_conn: Any, clause: Any, *_args: Any) -> None:
        ran.append(clause)

    engine = app.services.db.writer.sync_engine
    event.listen(engine, "before_execute", listen)
    try:
        yield ran
    finally:
        event.remove(engine, "before_execute", listen)


def on_postgresql(ran: list[ClauseElement]) -> list[str]:
    return [" ".join(str(c.compile(dialect=postgresql.dialect())).split()) for c in ran
            if hasattr(c, "compile") and c.__class__.__name__ == "Select"]


async def test_the_outbox_claim_locks_its_users_and_rows_skipping_the_locked(app: App) -> None:
    for user in (9, 10):
        await app.services.users.touch(Contact(user, "N", None, "en"))
    now = app.clock.now()
    async with app.services.db.write() as conn:
        for n in range(3):
            await enqueue(conn, user_id=9 + n % 2, kind="order_status", payload={"order_id": n},
                          dedupe_key=f"k{n}", now=now)
    with statements(app) as ran:
        claimed = await app.services.outbox.claim(now, limit=10, lease=timedelta(seconds=60))
    assert claimed.rows == 3
    sql = on_postgresql(ran)
    assert any(s.startswith("SELECT users.id FROM users") and s.endswith("FOR NO KEY UPDATE SKIP LOCKED")
               for s in sql), sql
    assert any("FROM outbox" in s and s.endswith("FOR UPDATE SKIP LOCKED") for s in sql), sql
    # on SQLite the same statements carry no locking clause
    assert not any("FOR " in str(c.compile(dialect=sqlite.dialect())) for c in ran
                   if c.__class__.__name__ == "Select")


async def test_a_shops_later_events_wait_while_an_earlier_one_is_held(app: App, nova: Shop, alex: Player) -> None:
    await alex.send("/start")
    store_id = await store(nova)
    await linked(nova, alex, "c-1")
    await app.services.webhooks.set("Nova", "https://shop.example/hooks")
    for number in ("NOVA-1", "NOVA-2"):
        await app.services.orders.cancel(alex.user.id, await order(app, nova, store_id, number, paid=False),
                                         CancelReason.changed_mind)
    now = app.clock.now()
    lease = now + timedelta(minutes=2)
    with statements(app) as ran:
        async with app.services.db.write() as conn:
            (first,) = await repo.claim(conn, now, lease, 1)  # a run that takes one at a time
            # another run: the shop's second event waits until the first is done (in order)
            assert await repo.claim(conn, now, lease, 10) == []
    sql = on_postgresql(ran)
    assert any(s.startswith("SELECT shops.id FROM shops") and s.endswith("FOR NO KEY UPDATE SKIP LOCKED")
               for s in sql), sql
    assert any(s.endswith("FOR UPDATE OF webhook_deliveries SKIP LOCKED") for s in sql), sql
    async with app.services.db.write() as conn:
        await repo.mark_sent(conn, first.id, now)
        (second,) = await repo.claim(conn, now, lease, 10)
    assert second.id > first.id
