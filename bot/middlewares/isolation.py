"""Event isolation that serialises one user's updates and frees a lock once nobody holds or waits
for it. aiogram's SimpleEventIsolation keeps a lock for every key it has ever seen.

aiogram takes it as ``events_isolation or DisabledEventIsolation()``: the object must never be
falsy. It once had a ``__len__``, so an empty one (every one at start-up) was replaced by an
isolation that isolates nothing, and an album's photos overwrote each other (issue 15)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Hashable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Protocol

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey

# The id of the update being handled in this task, where the code feeding it sets it (webhook
# mode: bot/webhook.py). aiogram's FSM middleware asks the isolation for a lock by the user's key
# alone; this tells the shared isolation the update's place in the user's order.
UPDATE_ID: ContextVar[int | None] = ContextVar("update_id", default=None)


@contextmanager
def handling(update_id: int) -> Iterator[None]:
    """The update with this id is handled inside (its lock is taken in the order of the ids)."""
    token = UPDATE_ID.set(update_id)
    try:
        yield
    finally:
        UPDATE_ID.reset(token)


class Turns(Protocol):
    def lock(self, key: StorageKey, update_id: int) -> AbstractAsyncContextManager[None]: ...


class FreeingEventIsolation(BaseEventIsolation):
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    @property
    def held(self) -> int:
        """How many keys have a lock now (held or waited for); idle keys keep nothing."""
        return len(self._locks)

    def __bool__(self) -> bool:
        return True  # see the module's docstring

    async def close(self) -> None:
        """Nothing to do: a lock is freed by its last holder. aiogram closes the isolation at the
        start of the shutdown, before Runtime.on_shutdown waits for the handlers in flight; clearing
        the locks here made each of them fail with a KeyError as it let go of its lock."""
        return None


class SharedIsolation(BaseEventIsolation):
    """One user's updates one at a time across every process sharing a lock (REDIS_URL: aiogram's
    RedisEventIsolation, bot/db/fsm_redis.py).

    - An update whose id is known (`handling`: webhook mode, where several instances share the
      updates) waits for its turn in the user's queue in Redis (`OrderedTurns`): the user's updates
      go in the order of their ids, whichever process got each.
    - Without an id (polling: one process gets all updates, in order), the Redis lock is taken
      behind our in-process lock. The Redis lock alone is not fair — its waiters poll, and whoever
      polls first wins — so an album's photos or answers typed in one burst, handed to tasks
      together, were handled out of order; the local asyncio lock queues them in arrival order
      (FIFO) and only its holder waits for Redis."""

    def __init__(self, shared: BaseEventIsolation, turns: Turns | None = None) -> None:
        self.local = FreeingEventIsolation()
        self.shared = shared
        self.turns = turns

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        update_id = UPDATE_ID.get()
        if update_id is not None and self.turns is not None:
            async with self.turns.lock(key, update_id):
                yield
            return
        async with self.local.lock(key), self.shared.lock(key):
            yield

    def __bool__(self) -> bool:
        return True  # see the module's docstring

    async def close(self) -> None:
        await self.local.close()
        await self.shared.close()
