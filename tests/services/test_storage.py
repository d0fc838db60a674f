"""The database layer: BEGIN IMMEDIATE for writes, nesting, FSM storage keyed by the whole key."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.db.engine import Database, DuplicateUpdate, update_scope
from bot.db.fsm import SqlStorage
from bot.services.clock import FakeClock
from bot.services.housekeeping import last_update_id, prune_processed_updates, sweep_abandoned_flows
from tests.services_kit import sqlite_only


@pytest.fixture
async def db(settings):
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@sqlite_only
async def test_pragmas(db: Database) -> None:
    async with db.read() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 5000
        assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == 10_000
    assert [tuple(r) for r in await db.fetch_all("PRAGMA mmap_size", ())] == [(256 * 1024 * 1024,)]  # hot reads


@sqlite_only
async def test_the_wal_is_copied_back_by_checkpoint_not_by_the_commits(db: Database) -> None:
    """A commit passing SQLite's default of 1,000 WAL pages would copy them all back itself (a
    p99 of the writing updates): ours leave it to `checkpoint`, which the runtime runs every second."""
    storage = SqlStorage(db, FakeClock().now)
    await db.checkpoint()
    for n in range(700):  # a new row each: well over a thousand pages written, in 700 commits
        await storage.set_data(_key(n), {"n": n, "pad": "x" * 500})
    assert await db.checkpoint() > 1000  # all still in the WAL, copied back now


@sqlite_only
async def test_write_takes_the_write_lock_at_begin(db: Database, db_path) -> None:
    """BEGIN IMMEDIATE: while our unit of work is open, another connection cannot start writing,
    even before we have written anything."""
    async with db.write() as conn:
        await conn.exec_driver_sql("SELECT 1")
        other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


async def test_nested_write_joins_the_outer_one(db: Database) -> None:
    async with db.write() as outer, db.write() as inner:
        assert inner is outer


async def test_concurrent_writers_are_serialised(db: Database) -> None:
    from sqlalchemy import text

    async with db.write() as conn:
        await conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        await conn.execute(text("INSERT INTO counter VALUES (0)"))

    async def bump() -> None:
        async with db.write() as conn:
            n = (await conn.execute(text("SELECT n FROM counter"))).scalar()
            await asyncio.sleep(0)
            await conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    await asyncio.gather(*(bump() for _ in range(20)))
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT n FROM counter"))).scalar() == 20


async def test_update_id_recorded_once_per_update(db: Database) -> None:
    clock = FakeClock()
    with update_scope(7, clock.now):
        async with db.write():
            pass
        async with db.write():  # the same update writing again is fine
            pass
    with update_scope(7, clock.now), pytest.raises(DuplicateUpdate):
        async with db.write():
            pass
    assert await last_update_id(db) == 7


async def test_rolled_back_update_is_not_recorded(db: Database) -> None:
    clock = FakeClock()
    with update_scope(8, clock.now):
        with pytest.raises(RuntimeError):
            async with db.write():
                raise RuntimeError
        async with db.write():  # the retry of the same update is allowed: nothing was applied
            pass


def _key(user: int, **kw) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user, user_id=user, **kw)


async def test_fsm_storage_roundtrip_and_key_parts(db: Database) -> None:
    clock = FakeClock()
    storage = SqlStorage(db, clock.now)
    await storage.set_state(_key(1), "Flow:step")
    await storage.set_data(_key(1), {"name": "Иван", "n": 3, "list": [1, 2]})
    assert await storage.get_state(_key(1)) == "Flow:step"
    assert await storage.get_data(_key(1)) == {"name": "Иван", "n": 3, "list": [1, 2]}
    assert await storage.get_state(_key(1, thread_id=5)) is None
    assert await storage.get_data(_key(1, destiny="other")) == {}
    assert await storage.get_state(_key(2)) is None
    await storage.update_data(_key(1), {"n": 4})
    assert (await storage.get_data(_key(1)))["n"] == 4
    await storage.set_state(_key(1), None)
    await storage.set_data(_key(1), {})
    async with db.read() as conn:
        assert (await conn.exec_driver_sql("SELECT count(*) FROM fsm_states")).scalar() == 0


async def test_fsm_data_must_be_json(db: Database) -> None:
    clock = FakeClock()
    storage = SqlStorage(db, clock.now)
    with pytest.raises(TypeError):
        await storage.set_data(_key(1), {"when": clock.now()})  # a datetime is not JSON


async def test_sweeps(db: Database) -> None:
    clock = FakeClock()
    storage = SqlStorage(db, clock.now)
    await storage.set_state(_key(1), "Old:step")
    clock.advance(days=40)
    await storage.set_state(_key(2), "New:step")
    assert await sweep_abandoned_flows(db)(clock.now()) == 1
    assert await storage.get_state(_key(2)) == "New:step"
    for update_id in (1, 2, 3):
        with update_scope(update_id, lambda: clock.now() - timedelta(days=10)):
            async with db.write():
                pass
    assert await prune_processed_updates(db)(clock.now()) == 2
    assert await last_update_id(db) == 3  # the newest id is kept


def test_fast_head_revision_matches_alembic() -> None:
    from alembic.script import ScriptDirectory

    from bot.db.migrate import MIGRATIONS_DIR, head_revision

    assert head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


async def test_fsm_watchers_see_each_committed_change_once_after_the_commit(db: Database) -> None:
    """What the card flow relies on to end a gateway session however its flow was left: one call
    per transaction with the state and data before and after it, made once it has committed
    (not while the write lock is held), and none for a transaction rolled back."""
    seen: list[tuple] = []

    async def watcher(old_state, old_data, new_state, new_data) -> None:
        assert db.current_write() is None  # after the commit, outside the unit of work
        seen.append((old_state, old_data, new_state, new_data))

    storage = SqlStorage(db, FakeClock().now, watchers=[watcher])
    async with db.write():
        await storage.set_state(_key(1), "Flow:a")
        await storage.set_data(_key(1), {"sid": "s1"})
        assert seen == []
    assert seen == [(None, {}, "Flow:a", {"sid": "s1"})]
    async with db.write():  # state.clear(): two writes, one change
        await storage.set_state(_key(1), None)
        await storage.set_data(_key(1), {})
    assert seen[1:] == [("Flow:a", {"sid": "s1"}, None, {})]
    await storage.set_state(_key(1), None)  # no change: nobody is told
    assert len(seen) == 2
    with pytest.raises(RuntimeError):
        async with db.write():
            await storage.set_state(_key(1), "Flow:b")
            raise RuntimeError("rolled back")
    assert len(seen) == 2 and await storage.get_state(_key(1)) is None


async def test_fsm_in_an_update_reads_its_row_once_and_a_rollback_forgets_what_it_wrote(db: Database) -> None:
    """Within one update the FSM row is read once (aiogram's middleware) and what the update writes
    is what it reads after (no read again); a unit of work rolled back leaves the row as it was, and
    the update's next read says so."""
    reads: list[str] = []
    fetch = db.fetch_all

    async def counted(sql, params):
        if sql.startswith("SELECT state, data FROM fsm_states"):
            reads.append(sql)
        return await fetch(sql, params)

    db.fetch_all = counted  # type: ignore[method-assign]
    clock = FakeClock()
    storage = SqlStorage(db, clock.now)
    await storage.set_state(_key(1), "Flow:a")
    with update_scope(1, clock.now):
        reads.clear()
        assert await storage.get_state(_key(1)) == "Flow:a"
        async with db.write():
            await storage.set_state(_key(1), "Flow:b")
            await storage.update_data(_key(1), {"n": 1})
        assert (await storage.get_state(_key(1)), await storage.get_data(_key(1))) == ("Flow:b", {"n": 1})
        assert len(reads) == 1
        with pytest.raises(RuntimeError):
            async with db.write():
                await storage.set_state(_key(1), "Flow:c")
                raise RuntimeError("rolled back")
        assert await storage.get_state(_key(1)) == "Flow:b"  # read again: the cache was cleared
        async with db.write():  # state.clear(): the row goes
            await storage.set_state(_key(1), None)
            await storage.set_data(_key(1), {})
        assert (await storage.get_state(_key(1)), await storage.get_data(_key(1))) == (None, {})
    async with db.read() as conn:
        assert (await conn.exec_driver_sql("SELECT count(*) FROM fsm_states")).scalar() == 0


# -- the hot reads' pool ------------------------------------------------------------------------------
_SLOW = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT count(*) AS c FROM n"


@sqlite_only  # the pool's internals; PostgreSQL's: tests/services/test_postgresql.py
async def test_hot_reads_in_flight_at_once_share_a_small_pool(settings) -> None:
    """N reads at once run on at most `read_pool` driver connections (each its own thread), opened
    on demand and kept; every read gets its own answer."""
    db = Database(settings.database_url, read_pool=3)
    try:
        rows = await asyncio.gather(*(db.fetch_one(_SLOW, (20_000 + k,)) for k in range(10)))
        assert [r["c"] for r in rows if r is not None] == [20_000 + k for k in range(10)]
        assert db._hot_open == 3 and len(db._hot_idle) == 3
        await db.fetch_all("SELECT 1 AS one", ())  # one at a time: an idle connection, no new one
        assert db._hot_open == 3
    finally:
        await db.dispose()
    assert db._hot_idle == []


@sqlite_only  # the pool's internals; PostgreSQL's: tests/services/test_postgresql.py
async def test_a_failed_hot_read_gives_its_connection_back(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await db.fetch_all("SELECT no_such_column FROM users", ())
    assert (await db.fetch_one("SELECT 7 AS seven", ()))["seven"] == 7  # type: ignore[index]
    assert db._hot_open == 1 and len(db._hot_idle) == 1


async def test_hot_reads_see_the_open_unit_of_work_and_the_pool_sees_only_commits(db: Database) -> None:
    """Inside a unit of work a screen's reader reads on its connection (what it just wrote is there);
    outside, a pool connection reads committed data only (WAL: a reader beside the writer)."""
    import contextvars

    from sqlalchemy import text

    sql = "SELECT id, first_name FROM users WHERE id = ?"
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO users (id, first_name, locale, created_at) "
                                "VALUES (77, 'Ann', 'en', '2026-01-01 00:00:00.000000')"))
        inside = await db.fetch_one(sql, (77,))
        assert inside is not None and (inside["id"], inside["first_name"]) == (77, "Ann")
        outside = asyncio.get_running_loop().create_task(db.fetch_one(sql, (77,)), context=contextvars.Context())
        assert await outside is None  # not committed yet
    committed = await db.fetch_one(sql, (77,))
    assert committed is not None and committed["first_name"] == "Ann"
