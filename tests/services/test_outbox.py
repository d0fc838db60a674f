from __future__ import annotations

from bot.db import outbox as repo
from bot.services.outbox import enqueue
from bot.services.users import Contact
from tests.conftest import App


async def test_enqueue_is_idempotent_by_dedupe_key(app: App) -> None:
    await app.services.users.touch(Contact(9, "N", None, "en"))
    now = app.clock.now()
    async with app.services.db.write() as conn:
        assert await enqueue(conn, user_id=9, kind="order_status", payload={"order_id": 1},
                             dedupe_key="order:1:shipped", now=now)
        assert not await enqueue(conn, user_id=9, kind="order_status", payload={"order_id": 1},
                                 dedupe_key="order:1:shipped", now=now)
    async with app.services.db.read() as conn:
        rows = await repo.for_user(conn, 9)
    assert [(r.kind, r.payload, r.state, r.due_at) for r in rows] == [
        ("order_status", {"order_id": 1}, "pending", now)
    ]


async def test_due_scan_uses_the_partial_index(app: App) -> None:
    async with app.services.db.read() as conn:
        plan = (await conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE state IN ('pending', 'sending') "
            "AND due_at <= '2026-11-25' ORDER BY due_at, id LIMIT 500"
        )).all()
    assert any("ix_outbox_due" in str(row) for row in plan), plan
