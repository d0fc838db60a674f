"""PostgreSQL (issue 20), always run where it is running (tests/services_kit.py: `postgres`; skipped
with one line elsewhere, a failure in CI): migrations to head, units of work of two processes
taking turns, the hot reads' asyncpg path, search, update de-duplication. The whole suite runs on
PostgreSQL too with KABINET_SUITE_PG=1 (.ci/run)."""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.db.dialect import Sql, positional
from bot.db.engine import Database
from bot.db.migrate import head_revision, migrate, postgresql_revision
from tests.conftest import App
from tests.orderkit import ensure_user, place
from tests.services.test_catalog import (  # noqa: F401  (run here on PostgreSQL, with their fixture)
    shop,
    test_a_search_shows_the_best_matches_and_reads_every_page_fresh,
    test_search_both_languages_prefixes_ranked_and_safe,
    test_search_order_is_rating_then_reviews_then_age_and_follows_changes,
    test_the_pages_of_a_search_keep_what_it_found_when_typed,
)
from tests.services.test_storage import (  # noqa: F401
    test_concurrent_writers_are_serialised,
    test_fsm_in_an_update_reads_its_row_once_and_a_rollback_forgets_what_it_wrote,
    test_hot_reads_see_the_open_unit_of_work_and_the_pool_sees_only_commits,
    test_rolled_back_update_is_not_recorded,
    test_update_id_recorded_once_per_update,
)
from tests.services_kit import Postgres, _admin, drop_leftovers, leftovers, run_sql

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url(postgres: Postgres, request: pytest.FixtureRequest) -> str:
    """A migrated database of this test's own (a copy of the worker's template)."""
    return postgres.database(template=request.getfixturevalue("pg_template"))


@pytest.fixture
def settings(pg_url: str) -> Settings:  # this module's bots run on PostgreSQL, whatever the run
    return Settings(_env_file=None, bot_token=None, database_url=pg_url, default_locale="en",  # type: ignore[call-arg]
                    throttle_rate=0, card_fingerprint_key="kabinet-tests-" + "0" * 32)


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[Database]:
    database = Database(pg_url)
    yield database
    await database.dispose()


def test_migrations_run_to_head_and_keep_the_types(postgres: Postgres) -> None:
    assert migrate(postgres.url, None) is True
    assert postgresql_revision(postgres.url) == head_revision()
    assert migrate(postgres.url, None) is False  # current: nothing to do (no Alembic import)
    sql = (
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE"
        " (table_name, column_name) IN (('users', 'id'), ('orders', 'user_id'), ('products', 'search'),"
        " ('addresses', 'is_default'), ('users', 'created_at'), ('fsm_states', 'data')) ORDER BY 1, 2"
    )
    assert run_sql(postgres.url, sql) == [
        ("addresses", "is_default", "boolean"), ("fsm_states", "data", "text"),
        ("orders", "user_id", "bigint"), ("products", "search", "tsvector"),
        ("users", "created_at", "character varying"), ("users", "id", "bigint"),
    ]
    # text of any length, as SQLite keeps it (the declared widths are the services' to keep)
    assert run_sql(postgres.url, "SELECT character_maximum_length FROM information_schema.columns"
                   " WHERE table_name = 'stores' AND column_name = 'name'") == [(None,)]
    # a partial unique index stays partial: one default address per user, any number of others
    [(definition,)] = run_sql(postgres.url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ux_addresses_default'")
    assert "WHERE (is_default IS TRUE)" in definition
    big = 7_000_000_000  # Telegram's user ids exceed 32 bits
    run_sql(postgres.url, "INSERT INTO users (id, first_name, locale, created_at) VALUES (?, 'Big', 'en', ?)",
            (big, "2026-01-01 00:00:00.000000"))
    assert run_sql(postgres.url, "SELECT id FROM users") == [(big,)]


async def test_units_of_work_of_two_processes_take_turns(pg_url: str) -> None:
    """Each process counts and inserts in one unit of work, with a wide gap between the two; the
    advisory lock taken first in every write transaction makes them take turns, so "at most 5"
    holds across processes (READ COMMITTED alone would let both count 4 and insert)."""
    run_sql(pg_url, "CREATE TABLE slots (id serial PRIMARY KEY, owner text NOT NULL)")
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.pgkit", pg_url, name, "8", cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    ) for name in ("a", "b")]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert await asyncio.wait_for(proc.stdout.readline(), timeout=60) == b"ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outputs = [await asyncio.wait_for(proc.communicate(), timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert run_sql(pg_url, "SELECT count(*) FROM slots") == [(5,)]


def test_placeholders_are_translated_once_outside_quotes() -> None:
    sql = "SELECT '?' AS q, \"a?\" FROM t WHERE a = ? AND b IN (?, ?) AND c = 'it''s ?'"
    assert positional(sql) == "SELECT '?' AS q, \"a?\" FROM t WHERE a = $1 AND b IN ($2, $3) AND c = 'it''s ?'"
    assert positional(sql) is positional(sql)  # cached: once per statement text


async def test_hot_reads_run_on_a_small_asyncpg_pool_by_name(pg_url: str) -> None:
    db = Database(pg_url, read_pool=3)
    try:
        slow = "SELECT ?::int AS c, pg_sleep(0.05) IS NULL AS slept"
        rows = await asyncio.gather(*(db.fetch_one(slow, (k,)) for k in range(10)))
        assert [r["c"] for r in rows if r is not None] == list(range(10))  # each its own answer, by name
        assert db._pg_pool.get_size() <= 3
        with pytest.raises(Exception, match="no_such_column"):
            await db.fetch_all("SELECT no_such_column FROM users", ())
        assert (await db.fetch_one("SELECT ? + 1 AS eight", (7,)))["eight"] == 8  # type: ignore[index]
        async with db.write():  # inside a unit of work: through its connection, `?` translated too
            assert (await db.fetch_one("SELECT ? AS x", ("in",)))["x"] == "in"  # type: ignore[index]
    finally:
        await db.dispose()


async def test_a_write_waits_for_another_process_holding_the_write_lock(db: Database) -> None:
    """The lock is PostgreSQL's, not only this process's: a unit of work waits while another
    connection (another process) holds it."""
    import asyncpg

    from bot.db.dialect import WRITE_LOCK_KEY, asyncpg_dsn

    other = await asyncpg.connect(asyncpg_dsn(db.url))
    try:
        tx = other.transaction()
        await tx.start()
        await other.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

        async def write() -> None:
            async with db.write() as conn:
                await conn.execute(text("SELECT 1"))

        task = asyncio.get_running_loop().create_task(write(), context=contextvars.Context())
        done, _ = await asyncio.wait([task], timeout=0.3)
        assert not done  # waiting for the other process's transaction
        await tx.commit()
        await asyncio.wait_for(task, timeout=10)
    finally:
        await other.close()


def test_the_search_expression_quotes_every_word() -> None:
    sql = Sql.of("postgresql")
    assert sql.match_expression("Wireless наушн' & !x:* |") == "'wireless':* & 'наушн':* & 'x':*"
    assert sql.match_expression("  !!! ") == ""




async def test_order_ids_chosen_by_kabinet_move_the_sequence_past_them(app: App, pg_url: str) -> None:
    """Orders get `max(id) + 1` (the unit of work's lock makes it safe), as on SQLite; the column's
    sequence is moved past each, so an insert leaving the id to PostgreSQL does not collide."""
    await ensure_user(app.services, 1001)
    first = await place(app.services, 1001)
    second = await place(app.services, 1001)
    assert second.id == first.id + 1
    (next_from_sequence,) = run_sql(pg_url, "SELECT nextval(pg_get_serial_sequence('orders', 'id'))")[0]
    assert next_from_sequence == second.id + 1


def test_a_killed_sessions_databases_are_dropped_by_the_next(postgres: Postgres) -> None:
    """A session killed before it could drop its databases leaves them; the next session's first
    template drops those whose creating process is gone, and never one of a living process."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    pid = int(dead.stdout)
    left = f"pgkt_gw9_{pid}_0123456789"
    mine = postgres.url.rsplit("/", 1)[1]
    assert leftovers([left, mine, "pgkt_gw0_deadbeef", "pgkt_main_abc"]) == [left]  # living, and old names: kept
    _admin(f'CREATE DATABASE "{left}"')
    assert left in drop_leftovers()
    names = [r[0] for r in run_sql(postgres.url, "SELECT datname FROM pg_database")]
    assert left not in names and mine in names
