"""Update handling: the same update types through `Dispatcher.feed_update` with a fake session
that answers at once. (a) bare aiogram with a trivial handler is the floor; (b) Kabinet's screens.
Median and p99 per update, and p99 as a multiple of the floor's p99 (goal: ≤ 5×)."""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import CallbackQuery, Chat, Message, Update
from aiogram.types import User as TgUser

from bench.dataset import FIRST_USER_ID
from bot.app import build_bot, build_dispatcher, build_services
from bot.config import Settings
from bot.fakebot import FakeSession
from bot.keyboards.common import MenuCb, NavAction, NavCb

_ids = itertools.count(1)


@dataclass
class Result:
    name: str
    median_ms: float
    p99_ms: float
    ratio: float = 0.0


def _message(user: TgUser, text: str, bot: Bot) -> Update:
    return Update(update_id=next(_ids), message=Message(
        message_id=next(_ids), date=datetime.now(UTC), chat=Chat(id=user.id, type="private"),
        from_user=user, text=text).as_(bot))


def _press(user: TgUser, data: str, bot: Bot) -> Update:
    message = Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=user.id, type="private"),
                      from_user=user, text="screen")
    return Update(update_id=next(_ids), callback_query=CallbackQuery(
        id=str(next(_ids)), from_user=user, chat_instance="b", message=message, data=data).as_(bot))


async def _measure(name: str, feed: Callable[[], Awaitable[object]], n: int) -> Result:
    for _ in range(min(50, n)):  # warm-up: caches, compiled statements, pool
        await feed()
    gc.collect()
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        await feed()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    samples.sort()
    return Result(name, statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))])


async def bare_floor(n: int) -> Result:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer("ok")

    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot("1:bench", session=FakeSession())
    user = TgUser(id=1, is_bot=False, first_name="B")
    return await _measure("bare aiogram: text → answer", lambda: dp.feed_update(bot, _message(user, "hi", bot)), n)


async def kabinet(db_path: Path, n: int, user_id: int = FIRST_USER_ID + 1) -> list[Result]:
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{db_path}")  # type: ignore[call-arg]
    services = build_services(settings)
    dp = build_dispatcher(settings, services)
    bot = build_bot(settings, session=FakeSession())
    user = TgUser(id=user_id, is_bot=False, first_name="Maria", language_code="ru")
    cases: list[tuple[str, Callable[[], Update]]] = [
        ("/start (existing user)", lambda: _message(user, "/start", bot)),
        ("main menu (button)", lambda: _press(user, NavCb(action=NavAction.menu).pack(), bot)),
        ("settings (button)", lambda: _press(user, MenuCb(section="settings").pack(), bot)),
        ("help (button)", lambda: _press(user, MenuCb(section="help").pack(), bot)),
        ("text outside a flow", lambda: _message(user, "hello", bot)),
    ]
    results = []
    try:
        for name, make in cases:
            results.append(await _measure(name, lambda make=make: dp.feed_update(bot, make()), n))
    finally:
        await services.db.dispose()
    return results


async def run(db_path: Path, n: int) -> list[Result]:
    floor = await bare_floor(n)
    results = [floor, *await kabinet(db_path, n)]
    for r in results:
        r.ratio = r.p99_ms / floor.p99_ms
    return results


def table(results: list[Result]) -> str:
    lines = ["| update | median ms | p99 ms | p99 × floor |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {r.name} | {r.median_ms:.3f} | {r.p99_ms:.3f} | {r.ratio:.1f}× |" for r in results]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(table(asyncio.run(run(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2000))))
