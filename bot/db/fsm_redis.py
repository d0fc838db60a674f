"""FSM storage in Redis (REDIS_URL): aiogram's RedisStorage, with what our SQL storage
(bot/db/fsm.py) promises the flows kept as far as a second store allows.

- **Written when the unit of work commits.** A state or data written inside an open unit of work
  is held with that transaction (reads inside it see it) and written to Redis right after it
  commits; if it rolls back, nothing reaches Redis — as when the row was in the same transaction.
  What is lost is the atomicity of the two: a crash (or Redis failing) between the commit and the
  write leaves the user on the step before, with the domain change made. The flows cope: a step
  asks again and its service calls are idempotent or refuse a repeat (an address saved twice is
  caught by the de-duplication of the update; a repeated Save on a finished flow finds it closed).
  A write outside a unit of work goes to Redis at once.
- **Watchers** are told (state and data before and after, once per transaction) after the write,
  as SqlStorage tells them after its commit: the card flow ends its gateway session.
- **Keys** carry the bot, the chat, the thread, the user, the business connection and the
  destiny (checkout waits in a slot of its own), after REDIS_PREFIX; every key has a TTL
  (FSM_TTL_DAYS), refreshed by each write: an abandoned flow disappears by itself.
- JSON of primitives only, as in SQL: a datetime or an object fails loudly (json.dumps).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis

from bot.db.engine import Database
from bot.db.fsm import FlowWatcher

_UNSET: Any = object()


def key_builder(prefix: str) -> DefaultKeyBuilder:
    return DefaultKeyBuilder(prefix=prefix, separator=":", with_bot_id=True,
                             with_business_connection_id=True, with_destiny=True)


class _Held:
    """A key's writes held until its transaction commits; the after-commit callback itself."""

    def __init__(self, storage: RedisFlowStorage, key: StorageKey) -> None:
        self.storage = storage
        self.key = key
        self.state: Any = _UNSET
        self.data: Any = _UNSET
        self.before: tuple[str | None, dict[str, Any]] | None = None

    async def __call__(self) -> None:
        inner = self.storage.inner
        if self.state is not _UNSET:
            await inner.set_state(self.key, self.state)
        if self.data is not _UNSET:
            await inner.set_data(self.key, self.data)
        if self.before is not None:
            await self.storage.tell(self.key, self.before)


class RedisFlowStorage(BaseStorage):
    def __init__(self, inner: RedisStorage, db: Database, *, watchers: Sequence[FlowWatcher] = ()) -> None:
        self.inner = inner
        self.db = db
        self.watchers = tuple(watchers)

    async def _snapshot(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        return await self.get_state(key), await self.get_data(key)

    async def _hold(self, key: StorageKey) -> _Held | None:
        held = Database.pending(("fsm", key))
        if held is not None:
            return held  # type: ignore[no-any-return]
        before = await self._snapshot(key) if self.watchers else None
        held = Database.pending(("fsm", key), lambda: _Held(self, key))
        if held is not None:
            held.before = before
        return held  # type: ignore[no-any-return]

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        held = await self._hold(key)
        if held is not None:
            held.state = value
            return
        before = await self._snapshot(key) if self.watchers else None
        await self.inner.set_state(key, value)
        if before is not None:
            await self.tell(key, before)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        data = json.loads(json.dumps(data))  # JSON of primitives, checked now; a copy from here on
        held = await self._hold(key)
        if held is not None:
            held.data = data
            return
        before = await self._snapshot(key) if self.watchers else None
        await self.inner.set_data(key, data)
        if before is not None:
            await self.tell(key, before)

    async def get_state(self, key: StorageKey) -> str | None:
        held = Database.pending(("fsm", key))
        if held is not None and held.state is not _UNSET:
            return held.state  # type: ignore[no-any-return]
        return await self.inner.get_state(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        held = Database.pending(("fsm", key))
        if held is not None and held.data is not _UNSET:
            return dict(held.data)
        return await self.inner.get_data(key)

    async def tell(self, key: StorageKey, before: tuple[str | None, dict[str, Any]]) -> None:
        after = (await self.inner.get_state(key), await self.inner.get_data(key))
        if after == before:
            return
        for watcher in self.watchers:
            await watcher(before[0], before[1], after[0], after[1])

    async def close(self) -> None:  # the Redis client is closed by its owner (Runtime.on_shutdown)
        return None


def build_storage(redis: Redis, db: Database, *, prefix: str, ttl_days: int,
                  watchers: Sequence[FlowWatcher] = ()) -> RedisFlowStorage:
    ttl = timedelta(days=ttl_days)
    inner = RedisStorage(redis, key_builder=key_builder(prefix), state_ttl=ttl, data_ttl=ttl)
    return RedisFlowStorage(inner, db, watchers=watchers)


def build_isolation(redis: Redis, *, prefix: str) -> RedisEventIsolation:
    """A lock per user in Redis, held at most 60 s (a crashed process does not block the user);
    bot/app.py puts it behind the in-process lock (middlewares/isolation.py: SharedIsolation)."""
    return RedisEventIsolation(redis, key_builder=key_builder(prefix))


# -- one user's updates in the order of their ids, across processes --------------------------------
TURN_POLL = 0.02  # seconds between looks at the queue while another update of the user goes first
TICKET_LEASE_MS = 10_000  # a waiting update's place, refreshed by every look; a dead process's lapses
LOCK_MS = 60_000  # the user's lock, as aiogram's RedisEventIsolation holds it (a crash frees it)

# KEYS: the user's queue (update ids by score), the user's lock. ARGV: my update id, my token, the
# ticket lease, the tickets' key prefix, the lock's time. A look: keep my place; drop the places of
# updates whose process died (their ticket lapsed); if mine is first and the lock is free, take
# the lock and leave the queue (1), else wait (0).
_TURN = """
local queue, lock = KEYS[1], KEYS[2]
local me, token, lease, tickets, hold = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
redis.call('ZADD', queue, me, me)
redis.call('PEXPIRE', queue, lease * 6)
redis.call('SET', tickets .. me, '1', 'PX', lease)
while true do
  local first = redis.call('ZRANGE', queue, 0, 0)[1]
  if first == me then break end
  if redis.call('EXISTS', tickets .. first) == 1 then return 0 end
  redis.call('ZREM', queue, first)
end
if redis.call('SET', lock, token, 'NX', 'PX', hold) then
  redis.call('ZREM', queue, me)
  redis.call('DEL', tickets .. me)
  return 1
end
return 0
"""
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', ARGV[2] .. ARGV[1])
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class OrderedTurns:
    """One user's updates handled one at a time *in the order of their update ids*, whichever
    process each reached (webhook mode with several instances).

    A process that got update U of a user puts U in that user's queue in Redis (a sorted set) and
    looks, every TURN_POLL, whether U is the first of it and the user's lock is free: then it takes
    the lock and leaves the queue, in one script. So two answers typed in a burst, or an album's
    items, that reached two processes while an earlier update of the user was being handled go in
    the order the user sent them. The lock is the one aiogram's RedisEventIsolation takes (same key,
    token and expiry), so an update handled without an id (polling) still waits for it.

    What it cannot order: an update that reaches Redis after a later one already took the lock
    (nothing was waiting to be ordered against). A process that dies while waiting leaves a ticket
    that lapses after TICKET_LEASE_MS; the others then pass it."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.keys = key_builder(prefix)
        self._turn = redis.register_script(_TURN)
        self._leave = redis.register_script(_LEAVE)
        self._release = redis.register_script(_RELEASE)
        self._released = asyncio.Event()  # set (and replaced) whenever this process lets a user go

    @asynccontextmanager
    async def lock(self, key: StorageKey, update_id: int) -> AsyncGenerator[None, None]:
        queue, lock = self.keys.build(key, "turns"), self.keys.build(key, "lock")
        tickets = self.keys.build(key, "ticket") + ":"
        token = uuid.uuid4().hex
        me = str(update_id)
        try:
            while not await self._turn(keys=[queue, lock], args=[me, token, TICKET_LEASE_MS, tickets, LOCK_MS]):
                # the next look: when an update of this process lets go, or after TURN_POLL (another's)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), TURN_POLL)
        except BaseException:  # cancelled or Redis failed while waiting: give the place up (or let it lapse)
            with contextlib.suppress(Exception):
                await asyncio.shield(self._leave(keys=[queue], args=[me, tickets]))
            raise
        try:
            yield
        finally:
            try:
                await asyncio.shield(self._release(keys=[lock], args=[token]))
            finally:
                released, self._released = self._released, asyncio.Event()
                released.set()
