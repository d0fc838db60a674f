"""One user's updates, reaching several processes (webhook mode behind a load balancer), are
handled one at a time and in the order of their update ids (bot/db/fsm_redis.py: OrderedTurns,
bot/middlewares/isolation.py: SharedIsolation), and an album's items that reached different
processes are relayed as one album (bot/db/albums_redis.py). Against the real local Redis; skipped
with one line where it is not running."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import SendMediaGroup, SendMessage
from aiogram.types import PhotoSize, Update

from bot.config import Settings
from bot.db.fsm_redis import OrderedTurns, build_isolation, key_builder
from bot.fakebot import Player
from bot.middlewares.isolation import SharedIsolation, handling
from bot.services.clock import FakeClock
from tests.flows.test_relay import SELLER_ID, calls_to, deliver, writing_to_the_seller
from tests.services_kit import RedisSpace
from tests.test_redis import _close, the_same_user_on, two_processes

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


def process(space: RedisSpace) -> SharedIsolation:
    """One process's isolation, as bot/app.py builds it with REDIS_URL."""
    client: Any = space.client
    return SharedIsolation(build_isolation(client, prefix=space.prefix), OrderedTurns(client, prefix=space.prefix))


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait for a state of Redis another task is bringing about (bounded, not a fixed sleep)."""
    async def look() -> None:
        while True:
            if await condition():
                return
            await asyncio.sleep(0.005)
    await asyncio.wait_for(look(), 10)


async def through_the_webhook(player: Player, update: Update) -> None:
    """The update handled as the webhook hands it over: under its id (bot/webhook.py)."""
    with handling(update.update_id):
        player._check(update, await player.dp.feed_update(player.bot, update))


def waiting(space: RedisSpace, key: StorageKey, count: int) -> Callable[[], Awaitable[bool]]:
    queue = key_builder(space.prefix).build(key, "turns")

    async def condition() -> bool:
        return int(await space.client.zcard(queue)) == count  # type: ignore[attr-defined]
    return condition


async def test_updates_reaching_two_processes_go_in_the_order_of_their_ids(redis_space: RedisSpace) -> None:
    a, b = process(redis_space), process(redis_space)
    order: list[int] = []
    inside, let_go = asyncio.Event(), asyncio.Event()

    async def handle(isolation: SharedIsolation, update_id: int, *, hold: bool = False) -> None:
        with handling(update_id):
            async with isolation.lock(KEY):
                order.append(update_id)
                if hold:
                    inside.set()
                    await let_go.wait()

    holder = asyncio.create_task(handle(a, 3, hold=True))
    await inside.wait()
    later = asyncio.create_task(handle(b, 5))  # the later update reached B first
    await until(waiting(redis_space, KEY, 1))
    earlier = asyncio.create_task(handle(a, 4))
    await until(waiting(redis_space, KEY, 2))
    also_later = asyncio.create_task(handle(a, 6))
    await until(waiting(redis_space, KEY, 3))
    let_go.set()
    await asyncio.wait_for(asyncio.gather(holder, later, earlier, also_later), 10)
    assert order == [3, 4, 5, 6]
    assert await waiting(redis_space, KEY, 0)()  # the queue is left empty
    other = StorageKey(bot_id=1, chat_id=43, user_id=43)
    with handling(7):
        async with a.lock(KEY), b.lock(other):  # another user is not held up
            pass


async def test_a_place_left_by_a_dead_process_lapses_and_a_cancelled_wait_gives_its_place_up(
        redis_space: RedisSpace) -> None:
    client: Any = redis_space.client
    queue = key_builder(redis_space.prefix).build(KEY, "turns")
    await client.zadd(queue, {"2": 2})  # update 2's process died waiting: its ticket is gone
    a = process(redis_space)
    with handling(5):
        async with a.lock(KEY):
            assert await client.zrange(queue, 0, -1) == []  # passed and dropped
    inside, let_go = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        with handling(8):
            async with a.lock(KEY):
                inside.set()
                await let_go.wait()

    async def wait() -> None:
        with handling(9):
            async with a.lock(KEY):
                raise AssertionError("cancelled while waiting: never handled")

    holder = asyncio.create_task(hold())
    await inside.wait()
    waiter = asyncio.create_task(wait())
    await until(waiting(redis_space, KEY, 1))
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert await waiting(redis_space, KEY, 0)()
    assert [k async for k in client.scan_iter(match=f"{redis_space.prefix}:*ticket*")] == []
    let_go.set()
    await holder


async def test_an_update_without_an_id_and_one_with_share_the_users_lock(redis_space: RedisSpace) -> None:
    a, b = process(redis_space), process(redis_space)
    order: list[str] = []
    inside, let_go = asyncio.Event(), asyncio.Event()

    async def polled() -> None:  # no id known: the in-process FIFO and aiogram's Redis lock
        async with a.lock(KEY):
            order.append("polled in")
            inside.set()
            await let_go.wait()
            order.append("polled out")

    async def posted() -> None:
        with handling(11):
            async with b.lock(KEY):
                order.append("posted")

    first = asyncio.create_task(polled())
    await inside.wait()
    second = asyncio.create_task(posted())
    await until(waiting(redis_space, KEY, 1))
    let_go.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert order == ["polled in", "polled out", "posted"]


async def test_answers_typed_in_a_burst_reaching_two_dispatchers_fill_the_form_in_order(
        settings: Settings, clock: FakeClock, redis_space: RedisSpace) -> None:
    first, second = two_processes(settings, clock, redis_space)
    try:
        on_first = first.player(1001, first_name="Alex", language_code="en")
        on_second = the_same_user_on(second, first, 1001, "Alex")
        await on_first.send("/start")
        await on_first.press("📍 Shipping addresses")
        await on_first.press("➕ Add an address")
        await on_first.send("usa")
        await on_first.send("John O'Neill")
        await on_first.send("(650) 253-0000")
        assert "Choose the region" in on_first.last_text
        first.session.batch = batch = []  # the user types two answers at once
        await on_first.send("calif")
        await on_second.send("Mountain View")
        first.session.batch = None
        (a, to_a), (b, to_b) = batch

        key = StorageKey(bot_id=first.bot.id, chat_id=1001, user_id=1001)
        inside, let_go = asyncio.Event(), asyncio.Event()

        async def hold() -> None:  # an earlier update of the user still being handled somewhere
            with handling(to_a.update_id - 1):
                async with process(redis_space).lock(key):
                    inside.set()
                    await let_go.wait()

        holder = asyncio.create_task(hold())
        await inside.wait()
        city = asyncio.create_task(through_the_webhook(b, to_b))  # the later answer reached B first
        await until(waiting(redis_space, key, 1))
        region = asyncio.create_task(through_the_webhook(a, to_a))
        await until(waiting(redis_space, key, 2))
        let_go.set()
        await asyncio.wait_for(asyncio.gather(holder, city, region), 10)
        await on_first.send("1600 Amphitheatre Pkwy")
        await on_second.press("⏭ Skip")
        await on_first.send("94043")
        assert "John O'Neill\n1600 Amphitheatre Pkwy\nMountain View, CA 94043\n" in on_second.last_text
    finally:
        await _close(first, second)


async def test_an_albums_items_reaching_two_dispatchers_are_relayed_as_one_album(
        settings: Settings, clock: FakeClock, redis_space: RedisSpace) -> None:
    first, second = two_processes(settings, clock, redis_space)
    try:
        buyer = first.player(4242, first_name="Irina", language_code="en")
        await writing_to_the_seller(first, buyer)
        on_second = the_same_user_on(second, first, 4242, "Irina")
        photos = [buyer._user_message(media_group_id="g1", caption="three sides" if n == 0 else None,
                                      photo=[PhotoSize(file_id=f"a{n + 1}", file_unique_id=f"u{n}", width=1, height=1)])
                  for n in range(3)]
        updates = [Update(update_id=9_000 + n, message=m) for n, m in enumerate(photos)]
        to = [buyer, on_second, buyer]  # the second photo reached the other instance

        await asyncio.gather(*(through_the_webhook(p, u) for p, u in zip(to, updates, strict=True)))
        await asyncio.gather(first.dp["albums"].complete(), second.dp["albums"].complete())
        notes = [m.text for m in buyer.bot_messages if (m.text or "").startswith("✓ Sent to Nova Electronics.")]
        assert len(notes) == 1
        await deliver(first)
        albums = [c for c in calls_to(first, SELLER_ID) if isinstance(c, SendMediaGroup)]
        assert [[m.media for m in a.media] for a in albums] == [["a1", "a2", "a3"]]
        assert any(c.text.endswith("\n\nthree sides") for c in calls_to(first, SELLER_ID) if isinstance(c, SendMessage))
        assert [k async for k in redis_space.client.scan_iter(match=f"{redis_space.prefix}:album:*")] == []  # type: ignore[attr-defined]
    finally:
        await _close(first, second)
