"""The database: one writer connection behind a lock, a small pool of readers beside it, units of work.

A *unit of work* is one write transaction that starts with ``BEGIN IMMEDIATE`` (so a limit such as
"at most 5" is counted while holding SQLite's write lock) and commits before anything is sent.
On PostgreSQL its first statement is ``SELECT pg_advisory_xact_lock(<constant>)``: the writers of
every process take turns exactly like SQLite's single writer (held until commit or rollback), so
the same counts stay race-free; readers are READ COMMITTED connections beside it.
Calls nest: an inner ``write()`` joins the outer one, so a handler can make a service call and an
FSM change atomic. The open write connection lives in a ContextVar; the FSM storage writes through
it when there is one.

Update de-duplication: while an update is handled (``update_scope``), the first unit of work of the
update's handling that commits also records the update id; a redelivered update fails that insert
and is dropped whole. Bookkeeping done on the way in (``bookkeeping()``: the user middleware's
refresh of a renamed or returning user) neither records the id nor is refused for it: had it
recorded the id, a crash in the handler after it would have made Telegram's redelivery a no-op,
the user's change lost (issue 15).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.db.dialect import POSTGRESQL, WRITE_LOCK_KEY, Sql, asyncpg_dsn, dialect_of, positional
from bot.db.files import private_database
from bot.db.times import to_db_time

log = logging.getLogger(__name__)


class _NoDriverParameters(logging.Filter):
    """aiosqlite logs each call it runs on its thread at DEBUG — ``executing functools.partial(
    <execute>, 'INSERT …', (parameters…))`` — so every value written (addresses, tokens, FSM data)
    would reach a DEBUG log. The record keeps only the name of the call."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_call_name(arg) for arg in record.args)
        return True


def _call_name(arg: object) -> object:
    func = getattr(arg, "func", None)  # a functools.partial: its function, not its arguments
    if func is not None:
        return f"{getattr(func, '__qualname__', None) or getattr(func, '__name__', 'call')}(…)"
    return arg if isinstance(arg, int | float) else type(arg).__name__


class _NoRows(logging.Filter):
    """SQLAlchemy logs every fetched row at DEBUG ("Row (…)"): a user's addresses, card holder,
    token and fingerprint. Those records are dropped; the statements are still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Row %r"


_DRIVER_FILTER, _ROW_FILTER = _NoDriverParameters(), _NoRows()


def hide_sql_parameters() -> None:
    """SQL parameters and rows are never logged, at any level: SQLAlchemy's engines are made with
    ``hide_parameters=True``; this quiets the driver and SQLAlchemy's row log (idempotent)."""
    for name, quiet in (("aiosqlite", _DRIVER_FILTER), ("sqlalchemy.engine.Engine", _ROW_FILTER)):
        logger = logging.getLogger(name)
        if quiet not in logger.filters:
            logger.addFilter(quiet)


class DuplicateUpdate(Exception):
    """This update was already applied (Telegram redelivered it)."""


@dataclass
class _UpdateScope:
    update_id: int
    now: Callable[[], datetime]
    recorded: bool = False
    bookkeeping: bool = False  # inside `bookkeeping()`: units of work do not record the id
    # per-update read cache (e.g. the FSM row, read by aiogram's middleware and again by handlers)
    cache: dict[Any, Any] = field(default_factory=dict)


_RECORD_UPDATE = "INSERT INTO processed_updates (update_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING"

_write_conn: ContextVar[AsyncConnection | None] = ContextVar("kabinet_write_conn", default=None)
_after_commit: ContextVar[dict[Any, Callable[[], Awaitable[None]]] | None] = ContextVar(
    "kabinet_after_commit", default=None)
_update_scope: ContextVar[_UpdateScope | None] = ContextVar("kabinet_update_scope", default=None)


def _install_sqlite_recipe(engine: Engine, begin_sql: str) -> None:
    """SQLAlchemy's documented recipe for pysqlite/aiosqlite transactions, plus our pragmas."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the driver) emit BEGIN, so that we choose which kind.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA foreign_keys=ON")
        # the WAL is copied back by `Database.checkpoint` (every second, off the updates' path); the
        # commit that passes this many pages does it itself, should nothing else (a CLI command)
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES_BEFORE_A_COMMIT_CHECKPOINTS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_sql)


WAL_PAGES_BEFORE_A_COMMIT_CHECKPOINTS = 10_000  # ~40 MB; SQLite's default is 1,000
HOT_MMAP_BYTES = 256 * 1024 * 1024
READ_POOL = 4  # hot read connections: beyond ~2 per core they only add threads (bench/concurrent.py)


class Database:
    def __init__(self, url: str, *, echo: bool = False, read_pool: int = READ_POOL) -> None:
        self.url = url
        self.dialect = dialect_of(url)
        self.sql = Sql.of(self.dialect)  # the hand-written SQL pieces of this database (dialect.py)
        self._lock = asyncio.Lock()
        self.read_pool = read_pool
        self._hot_slots = asyncio.Semaphore(read_pool)
        hide_sql_parameters()
        if self.dialect == POSTGRESQL:
            self._init_postgresql(url, echo)
            return
        memory = url.rstrip("/").endswith(":memory:") or url.endswith(":///")
        self._hot_path: str | None = None if memory else url.split(":///", 1)[1]
        if self._hot_path is not None:
            private_database(Path(self._hot_path.split("?", 1)[0]))
        # the hot reads' pool (see `fetch_all`): connections opened on demand, up to `read_pool`
        self._pg_pool: Any = None
        self._hot_idle: list[aiosqlite.Connection] = []
        self._hot_open = 0  # opened so far (at most read_pool while not disposed)
        self._hot_closed = False
        self._closing: list[asyncio.Future[None]] = []
        pool_kw: dict[str, Any] = (
            {"poolclass": StaticPool} if memory else {"pool_size": 1, "max_overflow": 0}
        )
        # SQL parameters (tokens, addresses, phones, FSM data) never reach a log or an exception's
        # text, whatever the log level
        self.writer: AsyncEngine = create_async_engine(url, echo=echo, hide_parameters=True, **pool_kw)
        _install_sqlite_recipe(self.writer.sync_engine, "BEGIN IMMEDIATE")
        if memory:
            self.reader = self.writer
        else:
            self.reader = create_async_engine(
                url, echo=echo, hide_parameters=True, pool_size=4, max_overflow=4, pool_pre_ping=False
            )
            _install_sqlite_recipe(self.reader.sync_engine, "BEGIN")

    def _init_postgresql(self, url: str, echo: bool) -> None:
        self._hot_path = None
        self._hot_idle = []
        self._hot_open = 0
        self._hot_closed = False
        self._closing = []
        self._dsn = asyncpg_dsn(url)
        self._pg_pool = None  # the hot reads' asyncpg pool, made on the first read
        self._pg_pool_made: asyncio.Lock = asyncio.Lock()
        # one writer connection: the in-process lock lets one unit of work run at a time anyway
        self.writer = create_async_engine(url, echo=echo, hide_parameters=True, pool_size=1, max_overflow=0,
                                          pool_pre_ping=True)
        self.reader = create_async_engine(url, echo=echo, hide_parameters=True, pool_size=4, max_overflow=4,
                                          pool_pre_ping=True, isolation_level="READ COMMITTED")

    # -- units of work -------------------------------------------------------------------
    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on exit; nested calls join it."""
        current = _write_conn.get()
        if current is not None:
            yield current
            return
        scope = _update_scope.get()
        if scope is not None and scope.bookkeeping:
            scope = None
        pending: dict[Any, Callable[[], Awaitable[None]]] = {}
        pending_token = _after_commit.set(pending)
        try:
            async with self._lock, self.writer.begin() as conn:
                token = _write_conn.set(conn)
                try:
                    if self.dialect == POSTGRESQL:  # the writers of every process take turns
                        await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
                    if scope is not None and not scope.recorded:
                        recorded = await self.run(_RECORD_UPDATE, (scope.update_id, to_db_time(scope.now())))
                        if recorded == 0:
                            raise DuplicateUpdate(scope.update_id)
                    yield conn
                finally:
                    _write_conn.reset(token)
        except BaseException:
            # what this update read and cached may have been written by the transaction rolled back
            current = _update_scope.get()
            if current is not None:
                current.cache.clear()
            raise
        finally:
            _after_commit.reset(pending_token)
        if scope is not None:
            scope.recorded = True  # only once the transaction has committed
        for callback in pending.values():  # committed, the lock released: now the outside calls
            try:
                await callback()
            except Exception:
                log.warning("an after-commit call failed", exc_info=True)

    async def run(self, sql: str, params: tuple[Any, ...]) -> int:
        """One hand-written statement (``?`` placeholders) in the open unit of work; how many rows
        it changed. For the writes every update makes (the update id, the FSM row): the driver's
        SQL text skips SQLAlchemy's statement building, ~1.5 ms a statement here (bench)."""
        conn = _write_conn.get()
        if conn is None:
            raise RuntimeError("Database.run needs an open unit of work (Database.write)")
        result = await conn.exec_driver_sql(positional(sql) if self.dialect == POSTGRESQL else sql, params)
        return int(result.rowcount or 0)

    async def checkpoint(self, _now: datetime | None = None) -> int:
        """Copy the WAL's committed pages back into the database file (SQLite; PASSIVE: never waits
        for a reader or the writer), on a hot read connection. Run every second by the runtime, so
        that no update's commit pays for it: at SQLite's default, every thousandth page written made
        the commit that passed it copy them all, a p99 of the writing updates (bench). Returns how
        many of the WAL's pages are copied back now (until a writer starts the WAL again)."""
        if self.dialect == POSTGRESQL or self._hot_path is None:
            return 0
        rows = await self.fetch_all("PRAGMA wal_checkpoint(PASSIVE)", ())
        return int(rows[0][2]) if rows else 0

    @staticmethod
    def after_commit(key: Any, callback: Callable[[], Awaitable[None]]) -> bool:
        """Run `callback` once the open unit of work has committed (dropped if it rolls back);
        the first callback registered under `key` in a transaction wins. For calls outside the
        database (a gateway) that must follow a change but not hold the write lock. Returns False
        when no unit of work is open (the caller runs it itself)."""
        pending = _after_commit.get()
        if pending is None or _write_conn.get() is None:
            return False
        pending.setdefault(key, callback)
        return True

    @staticmethod
    def pending(key: Any, factory: Callable[[], Any] | None = None) -> Any:
        """The after-commit callback registered under `key` in the open unit of work (registering
        `factory()` first when there is none and a factory is given); None outside a unit of work.
        The callback may carry state that lives and dies with the transaction (bot/db/fsm_redis.py:
        the flow writes to make once it commits)."""
        pending = _after_commit.get()
        if pending is None or _write_conn.get() is None:
            return None
        if key not in pending and factory is not None:
            pending[key] = factory()
        return pending.get(key)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read: inside the open unit of work when there is one, else a reader connection."""
        current = _write_conn.get()
        if current is not None:
            yield current
            return
        async with self.reader.connect() as conn:
            yield conn

    @staticmethod
    def current_write() -> AsyncConnection | None:
        return _write_conn.get()

    # -- hot reads -----------------------------------------------------------------------
    # One indexed read through SQLAlchemy costs ~0.5 ms here, through the aiosqlite driver
    # ~0.06 ms (bench/). The reads of every update (the user row, the FSM row) and the busy
    # screens' one-statement readers take this path: a small pool of autocommit, read-only driver
    # connections (WAL lets them read beside each other and beside the writer; each aiosqlite
    # connection is a thread of its own, so N users' reads in flight do not queue behind one), or
    # the open unit of work, so that a screen read after a write sees the write. One path after a
    # read and after a write: rows come back as mappings and are decoded by column name.
    async def fetch_one(self, sql: str, params: tuple[Any, ...]) -> Mapping[str, Any] | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: tuple[Any, ...]) -> list[Mapping[str, Any]]:
        """Every row of one statement, each a mapping by column name. One statement is one
        snapshot: a screen that needs several tables reads them in one statement (subqueries)."""
        current = _write_conn.get()
        if self.dialect == POSTGRESQL:
            sql = positional(sql)
            if current is None:
                return await self._fetch_postgresql(sql, params)
        if current is not None or self._hot_path is None:
            async with self.read() as conn:
                return [r._mapping for r in (await conn.exec_driver_sql(sql, params)).all()]
        async with self._hot_slots:  # at most `read_pool` statements in flight; the rest wait
            conn = self._hot_idle.pop() if self._hot_idle else await self._open_hot()
            try:
                return list(await conn.execute_fetchall(sql, params))  # type: ignore[arg-type]
            finally:
                self._hand_back(conn)

    async def _fetch_postgresql(self, sql: str, params: tuple[Any, ...]) -> list[Mapping[str, Any]]:
        """A hot read on PostgreSQL: a statement on the asyncpg pool (autocommit, READ COMMITTED);
        asyncpg's records are read by column name like the other paths' rows."""
        pool = self._pg_pool
        if pool is None:
            pool = await self._make_pg_pool()
        async with self._hot_slots:
            return await pool.fetch(sql, *params)  # type: ignore[no-any-return]

    async def _make_pg_pool(self) -> Any:
        import asyncpg

        async with self._pg_pool_made:
            if self._pg_pool is None:
                if self._hot_closed:
                    raise RuntimeError("the database is closed")
                self._pg_pool = await asyncpg.create_pool(
                    self._dsn, min_size=0, max_size=self.read_pool,
                    # a statement's plan is prepared once per connection (asyncpg's cache)
                    statement_cache_size=256, max_inactive_connection_lifetime=60.0)
            return self._pg_pool

    def _hand_back(self, conn: aiosqlite.Connection) -> None:
        if self._hot_closed:  # disposed while the statement ran: close it, do not keep it
            self._closing.append(asyncio.ensure_future(conn.close()))
        else:
            self._hot_idle.append(conn)

    async def _open_hot(self) -> aiosqlite.Connection:
        assert self._hot_path is not None
        conn = await aiosqlite.connect(self._hot_path, isolation_level=None)
        conn.row_factory = sqlite3.Row  # by name (and by position); built in C
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA query_only=ON")
        # pages read in place: a write elsewhere drops a connection's page cache, and reading the
        # search index again through mmap costs a third less than copying it in (bench)
        await conn.execute(f"PRAGMA mmap_size={HOT_MMAP_BYTES}")
        self._hot_open += 1
        return conn

    async def dispose(self) -> None:
        self._hot_closed = True
        idle, self._hot_idle = self._hot_idle, []
        for conn in idle:
            await conn.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self._pg_pool is not None:
            pool, self._pg_pool = self._pg_pool, None
            await pool.close()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def current_scope() -> _UpdateScope | None:
    return _update_scope.get()


@contextmanager
def update_scope(update_id: int, now: Callable[[], datetime]) -> Any:
    """Mark the code inside as handling one Telegram update (for de-duplication)."""
    token = _update_scope.set(_UpdateScope(update_id, now))
    try:
        yield
    finally:
        _update_scope.reset(token)


@contextmanager
def bookkeeping() -> Any:
    """The units of work inside are not the update's own change (the user middleware refreshing
    the user row): they neither record the update id nor are refused as a duplicate, so the
    handler's own write records it, and a redelivery after a crash in the handler is applied."""
    scope = _update_scope.get()
    if scope is None or scope.bookkeeping:
        yield
        return
    scope.bookkeeping = True
    try:
        yield
    finally:
        scope.bookkeeping = False


__all__ = ["Database", "DuplicateUpdate", "bookkeeping", "update_scope"]
