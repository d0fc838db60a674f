from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import StorageKey

from bot.middlewares.isolation import FreeingEventIsolation


async def test_serialises_one_key_and_frees_idle_locks() -> None:
    isolation = FreeingEventIsolation()
    key = StorageKey(bot_id=1, chat_id=1, user_id=1)
    order: list[str] = []
    gate = asyncio.Event()

    async def first() -> None:
        async with isolation.lock(key):
            order.append("first in")
            await gate.wait()
            order.append("first out")

    async def second() -> None:
        async with isolation.lock(key):
            order.append("second in")

    t1 = asyncio.create_task(first())
    await asyncio.sleep(0)
    t2 = asyncio.create_task(second())
    await asyncio.sleep(0)
    assert order == ["first in"] and isolation.held == 1
    gate.set()
    await asyncio.gather(t1, t2)
    assert order == ["first in", "first out", "second in"]
    assert isolation.held == 0  # nothing kept for idle users

    for user in range(1000):
        async with isolation.lock(StorageKey(bot_id=1, chat_id=user, user_id=user)):
            pass
    assert isolation.held == 0


async def test_closing_while_a_lock_is_held_lets_its_holder_finish() -> None:
    """aiogram closes the isolation when the shutdown begins, before the runtime waits for the
    handlers in flight: a holder letting go afterwards must not fail (it did, with a KeyError)."""
    isolation = FreeingEventIsolation()
    key = StorageKey(bot_id=1, chat_id=1, user_id=1)
    async with isolation.lock(key):
        await isolation.close()
    assert isolation.held == 0
