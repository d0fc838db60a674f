"""Each dispatcher gets fresh routers; synchronous filters run in the event loop, not through
asyncio.to_thread (a thread hop per magic filter per update was most of an update's time, bench/);
a press is unpacked once and tried by the sections that can take it; routing is unchanged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher, F
from aiogram.types import Chat, Message, Update, User

from bot.fakebot import FakeSession
from bot.handlers import routers, sections
from bot.handlers.routing import Handlers, inline, prefix_gate
from tests.conftest import App

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # the suite's clock (tests/conftest.py)


def _filters(dp: Dispatcher) -> list[Any]:
    return [f for router in dp.chain_tail for observer in router.observers.values()
            for handler in observer.handlers for f in handler.filters or ()]


def _message(n: int, text: str) -> Update:
    return Update(update_id=n, message=Message(
        message_id=n, date=NOW, chat=Chat(id=1, type="private"),
        from_user=User(id=1, is_bot=False, first_name="A"), text=text))


def test_every_filter_of_the_bot_is_awaited_inline(app: App) -> None:
    filters = _filters(app.dp)
    assert len(filters) > 50
    assert all(f.awaitable for f in filters)


def test_each_dispatcher_gets_routers_of_its_own(app: App) -> None:
    first, second = routers(), routers()
    assert [r.name for r in first] == [r.name for r in second] == [s.name for s in sections()]
    ids = [{id(r) for r in rs} for rs in (first, second, app.dp.sub_routers)]
    assert len(set.union(*ids)) == sum(map(len, ids))  # no router in two of them
    for built in (first, second):  # neither is attached anywhere, each goes into its own dispatcher
        assert all(r.parent_router is None for r in built)
        Dispatcher().include_routers(*built)


async def test_aiogram_awaits_an_inlined_filter_and_passes_its_arguments(monkeypatch) -> None:
    """Pins what `inline` relies on: aiogram takes a coroutine function as awaitable (no thread)
    and passes it only the arguments its `__signature__` names. If aiogram changes how it decides,
    this fails instead of every update quietly hopping to a thread again (or failing)."""
    from aiogram.dispatcher.event.handler import FilterObject

    seen: list[Any] = []

    def sync_filter(message: Message, event_chat: Chat) -> dict[str, Any]:
        seen.append((message.text, event_chat.id))
        return {"length": len(message.text or "")}

    wrapped = FilterObject(inline(sync_filter))
    assert wrapped.awaitable and wrapped.params == {"message", "event_chat"} and not wrapped.varkw
    magic = FilterObject(inline(F.text == "hi"))
    assert magic.awaitable and len(magic.params) == 1

    async def no_threads(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a filter ran in a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    message = _message(1, "hello").message
    assert await wrapped.call(message, event_chat=message.chat, bot=None, state=None) == {"length": 5}
    assert seen == [("hello", 1)]
    assert await magic.call(message) is False


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
    router = Handlers("test")
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
    dp.include_router(router.build())
    assert all(f.awaitable for f in _filters(dp))
    bot = Bot("1:test", session=FakeSession())
    for n, text in enumerate(["/x", "hello", "hi"]):
        await dp.feed_update(bot, _message(n, text))
    assert seen == ["command", "long 5", "other"]


def test_every_button_filter_unpacks_once_per_update(app: App) -> None:
    from aiogram.filters.callback_data import CallbackQueryFilter

    filters = _filters(app.dp)
    assert not any(isinstance(f.callback, CallbackQueryFilter) for f in filters)
    assert sum(hasattr(f.callback, "callback_data_filter") for f in filters) > 50


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


def test_every_section_router_is_gated_by_the_buttons_it_takes() -> None:
    gated = {s.name for s in sections() if prefix_gate(s.callback_query.registrations) is not None}
    assert {"settings", "orders", "pay", "disputes", "reviews", "loyalty", "addresses", "messages", "coupons",
            "cards", "ops"} <= gated
    assert "fallback" not in gated  # it takes any press


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


def test_a_second_build_gets_the_same_handlers_and_flags() -> None:
    from aiogram.filters import Command

    section = Handlers("test")

    @section.message(Command("x"), flags={"kind": "demo"})
    async def command(message: Message) -> None:
        pass

    first, second = section.build(), section.build()
    assert first is not second
    for router in (first, second):
        (handler,) = router.message.handlers
        assert handler.callback is command
        assert handler.flags["kind"] == "demo" and len(handler.flags["commands"]) == 1


async def test_a_sections_middleware_wraps_its_handlers_in_every_build() -> None:
    from aiogram import BaseMiddleware

    section = Handlers("test")
    seen: list[str] = []

    class Mark(BaseMiddleware):
        async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
            seen.append("inner")
            return await handler(event, data)

    section.message.middleware(Mark())
    assert [type(m) for m in section.message.middleware] == [Mark]  # iterable, as aiogram's manager
    assert section.message.router is section and section.message.event_name == "message"

    @section.message()
    async def any_message(message: Message) -> None:
        seen.append("handler")

    bot = Bot("1:test", session=FakeSession())
    for n in range(2):  # two dispatchers, each with its own build
        dp = Dispatcher()
        dp.include_router(section.build())
        await dp.feed_update(bot, _message(n, "hi"))
    assert seen == ["inner", "handler"] * 2
