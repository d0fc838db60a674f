"""Polling and shutdown: a handler in flight and a running job finish, and the views noted for
Recently viewed are written, before the database closes."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

from aiogram.methods import GetUpdates, SetMyCommands
from aiogram.types import Chat, Message, Update
from aiogram.types import User as TgUser

from bot.app import build_bot
from bot.config import Settings
from bot.fakebot import FakeSession
from bot.runner import build_runtime
from bot.scheduler import Scheduler
from bot.services.clock import FakeClock
from tests.runtimekit import block_on_slow


async def test_shutdown_waits_for_the_handler_in_flight(settings: Settings, clock: FakeClock) -> None:
    session = FakeSession(now=clock.now)
    runtime = build_runtime(settings, bot=build_bot(settings, session=session))
    blocked = block_on_slow(runtime)
    started, release, order = blocked.started, blocked.release, blocked.order
    original_flush = runtime.services.viewed.flush

    async def flush(now: datetime | None = None) -> int:  # Recently viewed is written behind
        order.append("recently viewed written")
        return await original_flush(now)

    runtime.services.viewed.flush = flush  # type: ignore[method-assign]
    user = TgUser(id=42, is_bot=False, first_name="P", language_code="en")
    session.push_updates(Update(update_id=1, message=Message(
        message_id=1, date=datetime(2026, 11, 25), chat=Chat(id=42, type="private"),
        from_user=user, text="slow")))
    polling = asyncio.create_task(runtime.run(handle_signals=False))
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(runtime.dp.stop_polling())
    await asyncio.sleep(0)  # let the stop begin while the handler is still blocked
    assert not runtime.stopped
    release.set()
    await asyncio.wait_for(stopping, 10)
    await asyncio.wait_for(polling, 10)
    assert order == ["handler finished", "recently viewed written", "database closed"]
    assert runtime.stopped
    # polling asked only for the update types the dispatcher uses, and for edits: the card-number
    # guard deletes a message edited to hold a card number (aiogram alone would not ask for them)
    allowed = session.calls_of(GetUpdates)[0].allowed_updates
    assert set(allowed) == {"message", "callback_query", "my_chat_member", "channel_post",  # posts: groups.py
                            "edited_message"}
    assert "edited_message" not in runtime.dp.resolve_used_update_types()
    # commands registered per language and for the default scope
    langs = sorted(str(c.language_code) for c in session.calls_of(SetMyCommands))
    assert langs == ["None", "en", "ru"]
    ru = next(c for c in session.calls_of(SetMyCommands) if c.language_code == "ru")
    assert (ru.commands[0].command, ru.commands[0].description) == ("start", "Начать и открыть меню")


async def test_scheduler_shutdown_lets_a_running_job_finish(clock: FakeClock) -> None:
    scheduler = Scheduler(clock)
    started, release = asyncio.Event(), asyncio.Event()
    seen: list[datetime] = []

    async def job(now: datetime) -> None:
        started.set()
        await release.wait()
        seen.append(now)

    scheduler.add_job("slow", job, seconds=3600)
    scheduler.start()
    scheduler.run_soon("slow")
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(scheduler.shutdown(timeout=10))
    await asyncio.sleep(0)
    assert not stopping.done()
    release.set()
    assert await stopping == 0
    assert seen == [clock.now()]  # the job got the injected clock's time


async def test_scheduler_shutdown_is_bounded(clock: FakeClock) -> None:
    scheduler = Scheduler(clock)
    started = asyncio.Event()

    async def stuck(now: datetime) -> None:
        started.set()
        await asyncio.Event().wait()

    scheduler.add_job("stuck", stuck, seconds=3600)
    scheduler.start()
    scheduler.run_soon("stuck")
    await asyncio.wait_for(started.wait(), 10)
    assert await scheduler.shutdown(timeout=0.01) == 1
    for task in list(scheduler._running):
        task.cancel()


def test_handlers_are_given_every_service_but_the_send_budget_and_redis(app) -> None:
    """`as_workflow_data` follows the Services fields: a service added there reaches handlers by
    its name without a second list to keep in step. The send budget and the Redis client are for
    the bot's session and the runtime only."""
    from dataclasses import fields

    data = app.services.as_workflow_data()
    names = [f.name for f in fields(app.services)]
    assert list(data) == [n for n in names if n not in ("budget", "redis")]
    assert all(data[n] is getattr(app.services, n) for n in data)
    assert app.dp.workflow_data["orders"] is app.services.orders


async def test_start_warns_when_products_are_priced_in_a_currency_without_a_usd_rate(
        settings: Settings, clock: FakeClock, caplog) -> None:
    """1 point per whole dollar needs the dollars: a catalog in roubles and no USD_RATES for them
    would earn no points for any order placed in the bot, silently; the start says so."""
    runtime = build_runtime(settings, bot=build_bot(settings, session=FakeSession(now=clock.now)))
    try:
        catalog = runtime.services.catalog
        store = await runtime.services.orders.ensure_store("Nova Electronics")
        await catalog.upsert(store, "Earbuds", price_minor=2599, currency="USD")
        assert await runtime.check_usd_rates() == []
        await catalog.upsert(store, "Чайник", price_minor=349000, currency="RUB")
        await catalog.upsert(store, "Kettle", price_minor=3490, currency="EUR")
        with caplog.at_level("WARNING", logger="bot.runner"):
            assert await runtime.check_usd_rates() == ["EUR", "RUB"]
        assert "priced in EUR, RUB with no rate in USD_RATES" in caplog.text
        runtime.settings = settings.model_copy(update={"usd_rates": {"RUB": Decimal("0.011"),
                                                                     "EUR": Decimal("1.08")}})
        assert await runtime.check_usd_rates() == []
    finally:
        await runtime.services.db.dispose()
