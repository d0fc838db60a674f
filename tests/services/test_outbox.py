from __future__ import annotations

from datetime import timedelta

from bot.db import outbox as repo
from bot.services.outbox import enqueue
from bot.services.users import Contact
from tests.conftest import App
from tests.plankit import plan, reading, recording


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
    db = app.services.db
    with recording(db) as ran:
        await app.services.outbox.claim(app.clock.now(), limit=500, lease=timedelta(seconds=60))
    details = await plan(db, reading(ran, "outbox"))
    assert any("USING INDEX ix_outbox_due" in d for d in details), details


async def test_the_sweeper_prunes_what_the_message_centre_no_longer_shows(app: App) -> None:
    """Issue 15, item 13: delivered and failed rows go after a year, dropped ones after a month,
    and a user keeps their newest `per_user` delivered ones; pending rows and reminders before
    their expiry (whose dedupe keys stop them being sent again) stay. In batches, at most daily."""

    from sqlalchemy import update

    from bot.db.tables import outbox as t
    from bot.runner import build_sweeper
    from bot.services.outbox import OutboxService, Retention

    assert "outbox_prune" in build_sweeper(app.services).names
    for user in (9, 10):
        await app.services.users.touch(Contact(user, "N", None, "en"))
    now = app.clock.now()
    day = timedelta(days=1)

    async def add(key: str, user: int, ago: timedelta, state: str = "sent", expires: timedelta | None = None) -> None:
        async with app.services.db.write() as conn:
            await repo.add(conn, user_id=user, kind="order_status", payload={}, dedupe_key=key,
                           due_at=now - ago, now=now - ago, seen=state == "sent",
                           expires_at=now + expires if expires is not None else None)
            if state != "sent":
                await conn.execute(update(t).where(t.c.dedupe_key == key).values(state=state))

    await add("old-sent", 9, 400 * day)
    await add("old-failed", 9, 400 * day, "failed")
    await add("old-pending", 9, 400 * day, "pending")
    await add("old-reminder-still-live", 9, 400 * day, expires=30 * day)
    await add("old-reminder-expired", 9, 400 * day, expires=-day)
    await add("dropped-40d", 9, 40 * day, "dropped")
    await add("dropped-10d", 9, 10 * day, "dropped")
    for n in range(1, 6):
        await add(f"recent-{n}", 9, n * day)
    await add("other-1", 10, day)
    await add("other-400", 10, 400 * day, "pending")

    outbox = OutboxService(app.services.db, app.clock, app.services.users,
                           retention=Retention(per_user=3, batch=2, per_run=100))
    assert await outbox.prune(now) == 6

    async def keys() -> set[str]:
        async with app.services.db.read() as conn:
            return {r.dedupe_key for user in (9, 10) for r in await repo.for_user(conn, user)}

    assert await keys() == {"old-pending", "old-reminder-still-live", "dropped-10d",
                            "recent-1", "recent-2", "recent-3", "other-1", "other-400"}
    inbox = await app.services.messages.page(9)
    assert inbox.total == 4  # the newest 3 and the live reminder

    # at most once a day: a row that ages out now waits for the next run
    await add("recent-0", 9, timedelta(0))
    assert await outbox.prune(now + timedelta(hours=23)) == 0
    assert await outbox.prune(now + day) == 1
    assert "recent-3" not in await keys()

    # a run that reaches its cap leaves the rest to the next tick, not the next day
    for n in range(6):
        await add(f"bulk-{n}", 10, 500 * day)
    capped = OutboxService(app.services.db, app.clock, app.services.users,
                           retention=Retention(batch=2, per_run=4))
    assert await capped.prune(now) == 4
    assert await capped.prune(now) == 2
    assert await capped.prune(now) == 0
    assert await capped.prune(now + timedelta(hours=1)) == 0
