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

import json
from collections.abc import Mapping, Sequence
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
