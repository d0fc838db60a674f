"""REDIS_URL (bot/db/fsm_redis.py, bot/app.py): the FSM in Redis with a TTL, the per-user lock in
Redis, a flow begun on one dispatcher carried on by another sharing the Redis (two processes
behind one webhook), and what the storage keeps of SqlStorage's promises: a write inside a unit of
work reaches Redis only when it commits, and watchers are told. Against the real local Redis
(tests/services_kit.py: skipped, with one line at the end, where it is not running)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from aiogram.methods import SendMessage

from bot.app import build_bot
from bot.config import Settings
from bot.db.fsm_redis import RedisFlowStorage, build_isolation, build_storage
from bot.fakebot import Player
from bot.middlewares.isolation import SharedIsolation
from bot.services.clock import FakeClock
from tests.conftest import App
from tests.services_kit import RedisSpace

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


def redis_settings(settings: Settings, space: RedisSpace) -> Settings:
    return settings.model_copy(update={"redis_url": space.url, "redis_prefix": space.prefix})


def two_processes(settings: Settings, clock: FakeClock, space: RedisSpace) -> tuple[App, App]:
    """Two bot processes over one database and one Redis, seen through one Telegram (the chat the
    person sees): the second's bot talks through the first's session."""
    settings = redis_settings(settings, space)
    first, second = App(settings, clock), App(settings, clock)
    first.players, second.players = [], []
    second.session = first.session
    second.bot = build_bot(settings, session=first.session, services=second.services, sleep=second.sleep)
    return first, second


def the_same_user_on(app: App, first: App, user_id: int, first_name: str) -> Player:
    """The person of `first`'s chat, their next updates reaching `app`."""
    return Player(app.dp, app.bot, first.session, user_id=user_id, first_name=first_name, language_code="en")


async def _close(*apps: App) -> None:
    for app in apps:
        await app.close()  # its Redis keys deleted and its client closed too


async def test_a_flow_begun_on_one_dispatcher_goes_on_on_another(
        settings: Settings, clock: FakeClock, redis_space: RedisSpace) -> None:
    first, second = two_processes(settings, clock, redis_space)
    try:
        assert isinstance(first.dp.fsm.storage, RedisFlowStorage)
        isolation = first.dp.fsm.events_isolation
        assert isinstance(isolation, SharedIsolation) and isinstance(isolation.shared, RedisEventIsolation)
        on_first = first.player(1001, first_name="Alex", language_code="en")
        on_second = the_same_user_on(second, first, 1001, "Alex")
        await on_first.send("/start")
        await on_first.press("📍 Shipping addresses")
        await on_first.press("➕ Add an address")
        await on_first.send("usa")
        await on_first.send("John O'Neill")
        assert "+1 201-555-0123" in on_first.last_text
        # the next updates reach the other process: it knows the step and the answers so far
        await on_second.send("(650) 253-0000")
        await on_second.send("calif")
        await on_second.send("Mountain View")
        await on_first.send("1600 Amphitheatre Pkwy")
        await on_second.press("⏭ Skip")
        await on_first.send("94043")
        assert "John O'Neill\n1600 Amphitheatre Pkwy\nMountain View, CA 94043\n" in on_second.last_text
        await on_second.press("✅ Save")
        (address,) = await first.services.addresses.list(1001)
        assert (address.recipient, address.city, address.postal_code) == ("John O'Neill", "Mountain View", "94043")
        # the flow is over in Redis (and nothing of it was kept in the database)
        # (the flow's keys: the replies counted in the shared Telegram budget are beside them)
        keys = [k async for k in redis_space.client.scan_iter(match=f"{redis_space.prefix}:{first.bot.id}:*")]  # type: ignore[attr-defined]
        assert keys == []
        assert first.sqlite("SELECT count(*) FROM fsm_states") == [(0,)]
    finally:
        await _close(first, second)


async def test_flow_keys_live_fsm_ttl_days(settings: Settings, clock: FakeClock, redis_space: RedisSpace) -> None:
    app = App(redis_settings(settings, redis_space).model_copy(update={"fsm_ttl_days": 3}), clock)
    app.players = []
    try:
        player = app.player(1001)
        await player.send("/start")
        await player.press("📍 Shipping addresses")
        await player.press("➕ Add an address")
        await player.send("usa")
        client: Any = redis_space.client
        keys = [k.decode() async for k in client.scan_iter(match=f"{redis_space.prefix}:{app.bot.id}:*")]
        assert sorted(k.rsplit(":", 1)[1] for k in keys) == ["data", "state"]
        assert all(k.startswith(f"{redis_space.prefix}:{app.bot.id}:1001:1001:default:") for k in keys)
        for key in keys:
            assert 3 * 86400 - 60 < await client.ttl(key) <= 3 * 86400
    finally:
        await _close(app)


async def test_a_write_in_a_unit_of_work_reaches_redis_when_it_commits(
        app: App, redis_space: RedisSpace) -> None:
    told: list[tuple[Any, ...]] = []

    async def watcher(*change: Any) -> None:
        told.append(change)

    client: Any = redis_space.client
    storage = build_storage(client, app.services.db, prefix=redis_space.prefix, ttl_days=1, watchers=[watcher])
    db = app.services.db
    with pytest.raises(RuntimeError):
        async with db.write():
            await storage.set_state(KEY, "Form:street")
            await storage.set_data(KEY, {"city": "Boston"})
            assert await storage.get_state(KEY) == "Form:street"  # seen inside the transaction
            assert await storage.inner.get_state(KEY) is None  # not in Redis yet
            raise RuntimeError("rolled back")
    assert await storage.get_state(KEY) is None and await storage.get_data(KEY) == {}
    assert told == []
    async with db.write():
        await storage.set_state(KEY, "Form:street")
        await storage.set_data(KEY, {"city": "Boston"})
        await storage.set_data(KEY, {"city": "Boston", "street": "1 Main St"})
        assert await storage.inner.get_data(KEY) == {}
    assert await storage.inner.get_state(KEY) == "Form:street"
    assert await storage.inner.get_data(KEY) == {"city": "Boston", "street": "1 Main St"}
    assert told == [(None, {}, "Form:street", {"city": "Boston", "street": "1 Main St"})]  # once
    await storage.set_state(KEY, None)  # outside a unit of work: at once, each write told
    assert await storage.inner.get_state(KEY) is None
    await storage.set_data(KEY, {})
    data = {"city": "Boston", "street": "1 Main St"}
    assert told[1:] == [("Form:street", data, None, data), (None, data, None, {})]
    assert [k async for k in client.scan_iter(match=f"{redis_space.prefix}:*")] == []
    with pytest.raises(TypeError):  # JSON of primitives only, as in SQL
        await storage.set_data(KEY, {"when": app.clock.now()})


async def test_one_users_updates_wait_for_each_other_across_processes(redis_space: RedisSpace) -> None:
    client: Any = redis_space.client
    first, second = build_isolation(client, prefix=redis_space.prefix), build_isolation(client, prefix=redis_space.prefix)
    order: list[str] = []
    inside = asyncio.Event()

    async def hold() -> None:
        async with first.lock(KEY):
            inside.set()
            order.append("first in")
            await asyncio.sleep(0.3)
            order.append("first out")

    async def wait() -> None:
        await inside.wait()
        async with second.lock(KEY):
            order.append("second in")

    await asyncio.wait_for(asyncio.gather(hold(), wait()), 10)
    assert order == ["first in", "first out", "second in"]
    other = StorageKey(bot_id=1, chat_id=43, user_id=43)
    async with first.lock(KEY), second.lock(other):  # another user is not held up
        pass


async def test_flood_protection_is_one_bucket_across_processes(
        settings: Settings, clock: FakeClock, redis_space: RedisSpace) -> None:
    settings = redis_settings(settings, redis_space).model_copy(update={"throttle_rate": 2.0, "throttle_burst": 5})
    first, second = App(settings, clock), App(settings, clock)
    first.players, second.players = [], []
    try:
        on_first, on_second = first.player(1001), second.player(1001)

        def told() -> list[str]:
            return [c.text for app in (first, second) for c in app.session.calls_of(SendMessage)
                    if c.text.startswith("You are sending messages too fast")]

        for player in (on_first, on_second, on_first, on_second, on_first):  # the burst, spread
            await player.send("/menu")
        assert "Choose a section" in on_first.last_text and told() == []
        await on_second.send("/menu")  # the sixth, on either process: refused, told once
        await on_first.send("/menu")
        assert len(told()) == 1
        assert len(second.session.calls_of(SendMessage)) == 3  # two menus and the notice
        await on_second.press("⚙️ Settings")  # a press is refused too, and answered
        assert on_second.alerts() == ["Too many taps. Please wait a second."]
        clock.advance(seconds=1)  # two updates' worth
        await on_second.send("/menu")
        await on_first.send("/menu")
        await on_second.send("/menu")  # a new spell: told again
        assert len(told()) == 2
        other = second.player(2002)
        await other.send("/menu")  # another user has a bucket of their own
        assert "Choose a section" in other.last_text
    finally:
        await _close(first, second)


async def test_a_save_repeated_after_a_crash_before_the_redis_write_adds_one_address(
        settings: Settings, clock: FakeClock, redis_space: RedisSpace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window of README "What is lost with Redis": the address is committed, then the process
    dies before the flow's end reaches Redis. The user still sees the summary and presses Save
    again: the form's id, kept in its draft and stored with the address, finds it saved."""
    from bot.db import fsm_redis

    app = App(redis_settings(settings, redis_space), clock)
    app.players = []
    try:
        alex = app.player(1001)
        await alex.send("/start")
        await alex.press("📍 Shipping addresses")
        await alex.press("➕ Add an address")
        for text in ("usa", "John O'Neill", "(650) 253-0000", "calif", "Mountain View", "1600 Amphitheatre Pkwy"):
            await alex.send(text)
        await alex.press("⏭ Skip")
        await alex.send("94043")
        summary = alex.last_text
        assert "John O'Neill\n1600 Amphitheatre Pkwy" in summary

        save = alex.find_button("✅ Save")

        async def crash(self: Any) -> None:  # the flow's end never reaches Redis
            raise ConnectionError("the process died here")

        with monkeypatch.context() as patched:
            patched.setattr(fsm_redis._Held, "__call__", crash)
            await alex.press("✅ Save")
        # (here the bot still answered: the engine logs a failed after-commit call; a real crash
        # would not have, and the summary would still be on screen)
        assert len(await app.services.addresses.list(1001)) == 1  # committed before the "crash"
        (state,) = [s for _u, s, _d in await app.flows()]
        assert state is not None and state.endswith("summary")  # Redis still says: at the summary
        await alex.press_data(save[1], save[0])  # Save again on that summary
        (address,) = await app.services.addresses.list(1001)  # found done, not added twice
        assert address.recipient == "John O'Neill"
        assert "John O'Neill" in alex.last_text and "Save" not in str(alex.buttons())
        assert await app.flows() == []  # and this time the flow ended
    finally:
        await _close(app)
