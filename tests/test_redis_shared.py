"""REDIS_URL: the two memories that were per process, shared by every instance through Redis —
the keyboard on screen for typed button labels (bot/db/keyboards_redis.py) and Recently viewed's
notes waiting to be written (bot/db/viewed_redis.py). Through two dispatchers over one database and
one Redis, each with its own connection to Telegram (its own session), and the stores directly:
their TTLs, the newest view winning, the notes of a failed write put back. Against the real local
Redis (skipped, with one line at the end, where it is not running)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import Settings
from bot.db.keyboards_redis import TTL_SECONDS as KEYBOARD_TTL
from bot.db.keyboards_redis import RedisKeyboards
from bot.db.viewed_redis import TTL_SECONDS as VIEWED_TTL
from bot.db.viewed_redis import RedisPendingViews
from bot.middlewares.typed_buttons import LocalKeyboards, Shown, keyed_buttons, match
from bot.services.catalog import viewed as viewed_module
from bot.services.catalog.viewed import LocalPendingViews, PendingViews, ViewedLog
from bot.services.clock import FakeClock
from tests.conftest import App
from tests.services_kit import RedisSpace
from tests.test_redis import _close, redis_settings


def two_instances(settings: Settings, clock: FakeClock, space: RedisSpace) -> tuple[App, App]:
    """Two processes over one database and one Redis, each with its own session to Telegram (so
    nothing is shared through the test's fake session)."""
    settings = redis_settings(settings, space)
    first, second = App(settings, clock), App(settings, clock)
    first.players, second.players = [], []
    return first, second


async def test_a_label_typed_to_another_instance_presses_the_button_it_showed(
        settings: Settings, clock: FakeClock, redis_space: RedisSpace) -> None:
    first, second = two_instances(settings, clock, redis_space)
    try:
        memories = (first.bot.session.keyboard_memory, second.bot.session.keyboard_memory)  # type: ignore[attr-defined]
        assert all(isinstance(m, RedisKeyboards) for m in memories) and memories[0] is not memories[1]
        on_first, on_second = first.player(1001), second.player(1001)
        await on_first.send("/start")  # the main menu, shown by A
        assert "⚙️ Settings" in [t for t, _ in on_first.buttons()]
        assert second.session.calls == []  # B has shown nothing
        await on_second.send("settings")  # typed, reaching B: a press of A's button
        assert "<b>Settings</b>" in on_second.last_text
        assert "⚙️ Settings" not in [t for t, _ in on_second.buttons()]
        # what B showed is now the keyboard on screen, for A too (A itself last showed the menu,
        # which has no "Time zone"): that button's label typed to A
        assert "🕒 Time zone" in [t for t, _ in on_second.buttons()]
        await on_first.send("time zone")
        assert "Choose your time zone" in on_first.last_text
        key = f"{redis_space.prefix}:keyboard:{first.bot.id}:1001"
        client: Any = redis_space.client
        assert KEYBOARD_TTL - 60 < await client.ttl(key) <= KEYBOARD_TTL
        # a text that is no label is still text, on either instance
        await on_second.send("hello there")
        assert "<b>Settings</b>" not in on_second.last_text
    finally:
        await _close(first, second)


async def test_a_product_opened_on_one_instance_is_in_recently_viewed_on_another(
        settings: Settings, clock: FakeClock, redis_space: RedisSpace) -> None:
    first, second = two_instances(settings, clock, redis_space)
    try:
        store = await first.services.orders.ensure_store("Zeta Home")
        lamp = await first.services.catalog.upsert(store, "Desk lamp", price_minor=2499, currency="USD",
                                                   category="home")
        on_first, on_second = first.player(1001), second.player(1001)
        await on_first.send(f"/start p{lamp}")  # opened on A: noted in Redis, not written yet
        assert "Desk lamp" in on_first.last_text
        assert first.sqlite("SELECT count(*) FROM viewed_products") == [(0,)]
        assert await second.services.viewed.pending() == 1  # B sees A's note
        await on_second.send("/menu")
        await on_second.press("🛍 Shopping")
        await on_second.press("👁 Recently viewed")  # B flushes this user's notes first
        assert [t for t, _ in on_second.buttons()][:1] == ["1. Desk lamp"]
        assert first.sqlite("SELECT user_id, product_id FROM viewed_products") == [(1001, lamp)]
        assert await first.services.viewed.pending() == 0 and await first.services.viewed.flush() == 0
    finally:
        await _close(first, second)


# -- the stores ------------------------------------------------------------------------------------
def _markup(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=f"d{n}")
                                                  for n, t in enumerate(labels)]])


async def test_the_keyboard_in_redis_is_one_per_chat_and_bot_kept_a_week(redis_space: RedisSpace) -> None:
    client: Any = redis_space.client
    one, other = RedisKeyboards(client, prefix=redis_space.prefix), RedisKeyboards(client, prefix=redis_space.prefix)
    await one.shown(7, 42, Shown(10, keyed_buttons(_markup("⏭ Skip", "Keep: 12", "Moscow (UTC+3)"))))
    assert await other.current(7, 42) == Shown(10, (("skip", "d0"), ("keep: 12", "d1"), ("moscow (utc+3)", "d2")))
    assert await match(other, 7, 42, "skip") == (10, "d0") and await match(other, 7, 42, "Moscow") == (10, "d2")
    assert await other.current(8, 42) is None and await other.current(7, 43) is None  # another bot, chat
    assert KEYBOARD_TTL - 60 < await client.ttl(one.key(7, 42)) <= KEYBOARD_TTL
    await other.shown(7, 42, Shown(11, keyed_buttons(_markup("‹ Back"))))  # a newer screen replaces it
    assert await match(one, 7, 42, "skip") is None and await match(one, 7, 42, "back") == (11, "d0")
    await one.gone(7, 42, 10)  # an older message lost its keyboard: the newest stays
    assert await one.current(7, 42) is not None
    await one.gone(7, 42, 11)
    assert await one.current(7, 42) is None
    await one.shown(7, 42, Shown(12, keyed_buttons(_markup("‹ Back"))))
    await one.shown(7, 42, Shown(12, ()))  # edited to keep no button that can be pressed
    assert await one.current(7, 42) is None
    assert [k async for k in client.scan_iter(match=f"{redis_space.prefix}:*")] == []


class _Down:
    """A Redis client whose every command fails (the server gone)."""

    def register_script(self, _script: str) -> Any:
        async def run(**_kw: Any) -> Any:
            raise ConnectionError("down")
        return run

    async def _fail(self, *_a: Any, **_kw: Any) -> Any:
        raise ConnectionError("down")

    set = get = smembers = _fail


async def test_redis_failing_never_fails_a_send_or_a_view(caplog: pytest.LogCaptureFixture) -> None:
    keyboards = RedisKeyboards(_Down(), prefix="x")
    await keyboards.shown(7, 42, Shown(10, (("skip", "d0"),)))
    await keyboards.gone(7, 42, 10)
    assert await match(keyboards, 7, 42, "skip") is None  # handled as text
    views = RedisPendingViews(_Down(), prefix="x")
    await views.note({(1, 2): FakeClock().now()})
    assert await views.take(1) == {} and await views.take() == {}
    assert sum("Redis failed" in r.message for r in caplog.records) == 2  # once a minute per store


async def test_the_newest_view_wins_and_taking_is_one_users_or_everyones(
        redis_space: RedisSpace, clock: FakeClock) -> None:
    client: Any = redis_space.client
    one, other = RedisPendingViews(client, prefix=redis_space.prefix), RedisPendingViews(client, prefix=redis_space.prefix)
    t0 = clock.now()
    t1 = t0 + timedelta(seconds=5, microseconds=123)
    await one.note({(1, 10): t1})
    await other.note({(1, 10): t0, (1, 11): t0, (2, 10): t0})  # an older view of (1, 10) loses
    assert await one.count() == 3
    for key in (one.key(1), one.key(2), one.users_key):
        assert VIEWED_TTL - 60 < await client.ttl(key) <= VIEWED_TTL
    assert await other.take(1) == {(1, 10): t1, (1, 11): t0}  # exact to the microsecond, in UTC
    assert await one.take(1) == {} and await one.count() == 1
    await one.note({(2, 10): t1, (3, 12): t0})
    assert await other.take() == {(2, 10): t1, (3, 12): t0}
    assert await one.count() == 0 and await one.take() == {}
    assert [k async for k in client.scan_iter(match=f"{redis_space.prefix}:*")] == []


async def test_the_notes_of_a_failed_write_are_put_back_in_redis_a_newer_view_winning(
        app: App, redis_space: RedisSpace, monkeypatch: pytest.MonkeyPatch) -> None:
    await _put_back(app, RedisPendingViews(redis_space.client, prefix=redis_space.prefix), monkeypatch)


async def test_the_notes_of_a_failed_write_are_put_back_in_memory_a_newer_view_winning(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    await _put_back(app, LocalPendingViews(), monkeypatch)


async def _put_back(app: App, notes: PendingViews, monkeypatch: pytest.MonkeyPatch) -> None:
    log = ViewedLog(app.services.db, notes)
    t0 = app.clock.now()
    t1 = t0 + timedelta(seconds=3)
    await log.note(1, 10, t0)
    await log.note(1, 11, t0)
    await log.note(2, 10, t0)

    async def fails(_conn: Any, batch: dict[tuple[int, int], Any]) -> None:
        assert batch == {(1, 10): t0, (1, 11): t0}  # one user's notes, taken
        assert await log.pending() == 1
        await log.note(1, 10, t1)  # viewed again meanwhile (another update, another instance)
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(viewed_module.repo, "viewed_many", fails)
    with pytest.raises(RuntimeError):
        await log.flush(user_id=1)
    assert await notes.take(1) == {(1, 10): t1, (1, 11): t0}  # put back, the newer view kept
    assert await notes.take() == {(2, 10): t0}


async def test_without_redis_the_memories_stay_in_the_process(app: App) -> None:
    if app.services.redis is not None:
        pytest.skip("KABINET_SUITE_REDIS=1: every bot on Redis")
    assert isinstance(app.bot.session.keyboard_memory, LocalKeyboards)  # type: ignore[attr-defined]
    assert isinstance(app.services.viewed.notes, LocalPendingViews)
