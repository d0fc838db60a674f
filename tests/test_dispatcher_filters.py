"""Synchronous filters run in the event loop, not through asyncio.to_thread (a thread hop per
magic filter per update was most of an update's time, bench/), and routing is unchanged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import Chat, Message, Update, User

from bot.app import inline_sync_filters, unpack_once_per_update
from bot.fakebot import FakeSession
from tests.conftest import App


def _filters(dp: Dispatcher) -> list[Any]:
    return [f for router in dp.chain_tail for observer in router.observers.values()
            for handler in [observer._handler, *observer.handlers] for f in handler.filters or ()]


def test_every_filter_of_the_bot_is_awaited_inline(app: App) -> None:
    filters = _filters(app.dp)
    assert len(filters) > 50
    assert all(f.awaitable for f in filters)
    assert inline_sync_filters(app.dp) == 0  # idempotent: a rebuilt dispatcher changes nothing twice


async def test_updates_never_hop_to_a_thread_and_route_as_before(app: App, alex, monkeypatch) -> None:
    async def no_threads(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a filter or handler ran in a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    await alex.send("/start")
    assert alex.last_text.startswith("Hello, Alex! 👋")
    await alex.press("⚙️ Settings")
    assert "Settings" in alex.last_text
    await alex.send("hello")  # text outside a flow: the fallback answers
    assert alex.last_text


async def test_a_sync_filter_keeps_its_meaning_and_its_arguments() -> None:
    router = Router()
    seen: list[str] = []

    def long_text(message: Message) -> bool | dict[str, Any]:
        return {"length": len(message.text or "")} if len(message.text or "") > 3 else False

    @router.message(F.text.startswith("/"))
    async def command(message: Message) -> None:
        seen.append("command")

    @router.message(long_text)
    async def long(message: Message, length: int) -> None:
        seen.append(f"long {length}")

    @router.message()
    async def other(message: Message) -> None:
        seen.append("other")

    dp = Dispatcher()
    dp.include_router(router)
    assert inline_sync_filters(dp) == 2
    bot = Bot("1:test", session=FakeSession())
    for n, text in enumerate(["/x", "hello", "hi"]):
        message = Message(message_id=n, date=datetime.now(UTC), chat=Chat(id=1, type="private"),
                          from_user=User(id=1, is_bot=False, first_name="A"), text=text)
        await dp.feed_update(bot, Update(update_id=n, message=message))
    assert seen == ["command", "long 5", "other"]
    router._parent_router = None



def test_every_button_filter_unpacks_once_per_update(app: App) -> None:
    from aiogram.filters.callback_data import CallbackQueryFilter

    filters = _filters(app.dp)
    assert not any(isinstance(f.callback, CallbackQueryFilter) for f in filters)
    assert unpack_once_per_update(app.dp) == 0  # idempotent: a rebuilt dispatcher changes nothing twice


async def test_a_press_is_unpacked_once_and_routed_as_before(app: App, alex, monkeypatch) -> None:
    from bot.keyboards.common import MenuCb

    unpacked: list[str] = []
    original = MenuCb.unpack.__func__

    def counting(cls: type, value: str) -> Any:
        unpacked.append(value)
        return original(cls, value)

    monkeypatch.setattr(MenuCb, "unpack", classmethod(counting))
    await alex.send("/start")
    await alex.press("🎟 Coupons")  # guarded by one MenuCb filter per section, before it
    assert "My coupons" in alex.last_text
    assert unpacked == [MenuCb(section="coupons").pack()]
    await alex.press_data("mn:nowhere")  # a stale button still reaches the fallback (unhandled fails)


def test_every_section_router_is_gated_by_the_buttons_it_takes(app: App) -> None:
    from bot.app import gate_callbacks_by_prefix

    gated = {router.name for router in app.dp.chain_tail if getattr(router.callback_query, "_prefix_gate", None)}
    assert {"settings", "orders", "pay", "disputes", "reviews", "loyalty", "addresses", "messages", "coupons",
            "cards", "ops"} <= gated
    assert "fallback" not in gated  # it takes any press
    assert gate_callbacks_by_prefix(app.dp) == 0  # idempotent: a rebuilt dispatcher is gated once


async def test_a_menu_press_is_tried_by_its_own_section_only(app: App, alex, monkeypatch) -> None:
    from collections import Counter

    from aiogram.dispatcher.event.handler import HandlerObject

    from bot import menu

    original = HandlerObject.check
    tried: Counter[str] = Counter()

    async def counting(self: HandlerObject, *args: Any, **kwargs: Any) -> Any:
        tried[getattr(self.callback, "__module__", "")] += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(HandlerObject, "check", counting)
    await alex.send("/start")
    for entry in menu.entries():
        tried.clear()
        await alex.send("/menu")
        tried.clear()
        await alex.press_data(f"mn:{entry.section}")
        # the section: the handler's module, or its package (bot.handlers.cards.wallet → cards)
        sections = {m.split(".")[2] for m in tried if m.startswith("bot.handlers.")}
        assert sections == {{"deleted_orders": "orders"}.get(entry.section, entry.section)}, (entry.section, tried)
        assert alex.last_text  # it opened
    await alex.press_data("mn:nowhere")  # a stale menu button still reaches the fallback
    assert alex.alerts()[-1] == "This button is no longer active."
