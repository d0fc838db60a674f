"""The services the project's machines run on the loopback (Redis at 127.0.0.1:6379, PostgreSQL at
127.0.0.1:5432, database `test`). A test that needs one takes its fixture: where it is not running the test is skipped, and
the run ends with one line saying so — unless KABINET_REQUIRE_SERVICES=1 (CI, `.ci/run`), where a
missing service fails the test instead."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import pytest

from bot.db.dialect import asyncpg_dsn, is_postgresql, positional, run_coroutine, with_database

SKIP_MARK = "not reachable"  # in every skip reason of this module (tests/conftest.py counts them)
REDIS_URL = os.environ.get("KABINET_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
# a database the tests connect to in order to create (and drop) databases of their own
POSTGRES_URL = os.environ.get("KABINET_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PG_PREFIX = "pgkt"  # every database the tests create is named pgkt_…
SUITE_PG = os.environ.get("KABINET_SUITE_PG") == "1"
# SQLite's own machinery (its query planner, pragmas, file locks): the PostgreSQL run has its own tests
sqlite_only = pytest.mark.skipif(SUITE_PG, reason="SQLite's own (query plan, pragmas, locks)")
_down: dict[str, BaseException] = {}  # a service found not running, once per process


def _unavailable(what: str, url: str, error: BaseException) -> None:
    message = f"{what} {SKIP_MARK} at {url} ({type(error).__name__}): its tests are skipped"
    if os.environ.get("KABINET_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} — but KABINET_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(message)


@dataclass
class RedisSpace:
    """A Redis database and a key prefix of this test's own: the tests running beside it (other
    workers, other checkouts on the same machine) have theirs; its keys are deleted at the end."""

    url: str
    prefix: str
    client: object


@pytest.fixture
async def redis_space() -> AsyncIterator[RedisSpace]:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    if "redis" in _down:
        _unavailable("Redis", REDIS_URL, _down["redis"])
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        _down["redis"] = error
        _unavailable("Redis", REDIS_URL, error)
    prefix = f"kt{uuid.uuid4().hex[:12]}"
    try:
        yield RedisSpace(REDIS_URL, prefix, client)
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


# -- PostgreSQL -------------------------------------------------------------------------------------
def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _admin(sql: str) -> None:
    """One statement (CREATE/DROP DATABASE) on the admin database, outside a transaction."""

    async def run() -> None:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(POSTGRES_URL), timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_coroutine(run())


def create_database(template: str | None = None) -> str:
    """A new database (empty, or a copy of the `template` database URL): its URL. Its name carries
    the creating process's id, so that a later session can tell a killed session's leftovers."""
    name = f"{PG_PREFIX}_{_worker()}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    source = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
    _admin(f'CREATE DATABASE "{name}"{source}')
    return with_database(POSTGRES_URL, name)


def drop_database(url: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def leftovers(names: list[str]) -> list[str]:
    """The test databases whose creating process is gone (a session killed before it could drop
    them). The databases run on this machine's loopback, so a process id says it; a name without
    one (an older checkout's) is left alone."""
    gone = []
    for name in names:
        parts = name.split("_")
        if len(parts) == 4 and parts[0] == PG_PREFIX and parts[2].isdigit() and not _alive(int(parts[2])):
            gone.append(name)
    return gone


def drop_leftovers() -> list[str]:
    """Drop what killed sessions left behind (once per worker, before its template is made)."""
    names = [str(r[0]) for r in run_sql(POSTGRES_URL, f"SELECT datname FROM pg_database WHERE datname LIKE '{PG_PREFIX}%'")]
    gone = leftovers(names)
    for name in gone:
        with suppress(Exception):  # another worker dropping it at the same moment
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return gone


class Template:
    """This worker's template: a database migrated to head once, copied by every test. A copy
    (CREATE DATABASE … TEMPLATE, ~0.1 s) is made ahead in a thread while the test before runs, and
    dropped (~0.1 s) in that thread after its test: the tests do not wait for either."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kabinet-pg-copies")
        self._next: Future[str] | None = None

    def take(self) -> str:
        url = (self._next or self._thread.submit(create_database, self.url)).result()
        self._next = self._thread.submit(create_database, self.url)
        return url

    def give_back(self, url: str) -> None:
        self._thread.submit(drop_database, url)

    def close(self) -> None:
        if self._next is not None:
            with suppress(Exception):
                drop_database(self._next.result())
        self._thread.shutdown(wait=True)


@contextmanager
def migrated_template() -> Iterator[Template]:
    from bot.db.migrate import migrate

    drop_leftovers()
    url = create_database()
    template = Template(url)
    try:
        migrate(url, None)
        yield template
    finally:
        template.close()
        drop_database(url)


@contextmanager
def database_from(template: Template) -> Iterator[str]:
    """A fresh copy of the template for one test, dropped after it."""
    url = template.take()
    try:
        yield url
    finally:
        template.give_back(url)


def run_sql(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """One statement with `?` placeholders on a connection of its own (another process's, committed
    at once): sqlite3 on an SQLite URL, asyncpg on a PostgreSQL one."""
    if not is_postgresql(url):
        con = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    async def run() -> list[tuple[Any, ...]]:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            return [tuple(r) for r in await conn.fetch(positional(sql), *params)]
        finally:
            await conn.close()

    return run_coroutine(run())


@dataclass
class Postgres:
    """The local PostgreSQL: `url` is a database of this test's own (empty; dropped at the end);
    `database()` makes more (`template=` a URL to copy)."""

    url: str
    made: list[str]

    def database(self, template: Template | None = None) -> str:
        url = template.take() if template is not None else create_database()
        self.made.append(url)
        return url


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    if "postgres" in _down:
        _unavailable("PostgreSQL", POSTGRES_URL, _down["postgres"])
    try:
        made = [create_database()]
    except (OSError, ConnectionError) as error:
        _down["postgres"] = error
        _unavailable("PostgreSQL", POSTGRES_URL, error)
    except Exception as error:  # asyncpg's own errors (a refused role, a missing database)
        if type(error).__module__.split(".")[0] != "asyncpg":
            raise
        _down["postgres"] = error
        _unavailable("PostgreSQL", POSTGRES_URL, error)
    space = Postgres(made[0], made)
    try:
        yield space
    finally:
        for url in made:
            drop_database(url)


def postgres_contents(url: str) -> tuple[list[tuple[str, bytes]], bytes]:
    """What a PostgreSQL database keeps, for the tests that look for a secret anywhere in it:
    every relation's files as they are on disk after a CHECKPOINT (heap, TOAST and indexes: dead
    row versions included, as SQLite's file and WAL are read whole), and the live rows as text."""

    async def read() -> tuple[list[tuple[str, bytes]], bytes]:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await conn.execute("CHECKPOINT")  # the buffers written to the files read below
            files = []
            for rel in await conn.fetch(
                "SELECT c.oid::regclass::text AS name, pg_relation_filepath(c.oid) AS path FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'pg_toast')"
                " AND c.relkind IN ('r', 't', 'i') AND pg_relation_filepath(c.oid) IS NOT NULL"
            ):
                size = await conn.fetchval("SELECT pg_relation_size($1::regclass)", rel["name"])
                if size:
                    files.append((rel["name"], await conn.fetchval("SELECT pg_read_binary_file($1)", rel["path"])))
            rows = []
            for (table,) in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
                rows += [r[0] for r in await conn.fetch(f'SELECT row_to_json(t)::text FROM "{table}" t')]
            return files, "\n".join(rows).encode()
        finally:
            await conn.close()

    return run_coroutine(read())
