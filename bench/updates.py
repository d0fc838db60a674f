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

from bench.sections import BENCH_USER
from bot.app import build_bot, build_dispatcher, build_services
from bot.config import Settings
from bot.fakebot import FakeSession
from bot.keyboards.common import MenuCb, NavAction, NavCb
from bot.keyboards.orders import OrderAction, OrderCb, Tab, list_cb

_ids = itertools.count(1)


@dataclass
class Result:
    name: str
    median_ms: float
    p99_ms: float
    ratio: float = 0.0
    db_ms: float | None = None  # median time inside SQL statements and commits
    api_ms: float | None = None  # median time inside the Bot API client (the fake session)
    probed_ms: float | None = None  # median of the pass with the probe (db and api come from it)


class Probe:
    """Where an update's time goes: the database (every SQLAlchemy statement and commit, and the
    driver-level hot reads) and the Bot API client (the session's make_request). The rest is
    aiogram, the middlewares, the handler and the view. Installed by patching for one run."""

    def __init__(self) -> None:
        self.db_ns = 0
        self.api_ns = 0
        self._depth = 0
        self._undo: list[tuple[object, str, object]] = []

    def reset(self) -> None:
        self.db_ns = self.api_ns = 0

    def _wrap(self, owner: object, name: str, kind: str) -> None:
        original = getattr(owner, name)
        probe = self

        async def timed(*args: object, **kwargs: object) -> object:
            if probe._depth:
                return await original(*args, **kwargs)
            probe._depth += 1
            started = time.perf_counter_ns()
            try:
                return await original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter_ns() - started
                probe._depth -= 1
                if kind == "db":
                    probe.db_ns += elapsed
                else:
                    probe.api_ns += elapsed

        self._undo.append((owner, name, original))
        setattr(owner, name, timed)

    def install(self, session: FakeSession) -> Probe:
        from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction

        from bot.db.engine import Database

        for owner, name in ((AsyncConnection, "execute"), (AsyncConnection, "exec_driver_sql"),
                            (AsyncConnection, "scalar"), (AsyncConnection, "scalars"),
                            (AsyncTransaction, "commit"), (Database, "fetch_one")):
            self._wrap(owner, name, "db")
        self._wrap(session, "make_request", "api")
        return self

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._undo):
            if isinstance(owner, type):
                setattr(owner, name, original)
            else:
                delattr(owner, name)  # the instance attribute shadowed the class's method
        self._undo.clear()


def _message(user: TgUser, text: str, bot: Bot) -> Update:
    return Update(update_id=next(_ids), message=Message(
        message_id=next(_ids), date=datetime.now(UTC), chat=Chat(id=user.id, type="private"),
        from_user=user, text=text).as_(bot))


def _press(user: TgUser, data: str, bot: Bot) -> Update:
    message = Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=user.id, type="private"),
                      from_user=user, text="screen")
    return Update(update_id=next(_ids), callback_query=CallbackQuery(
        id=str(next(_ids)), from_user=user, chat_instance="b", message=message, data=data).as_(bot))


async def _measure(name: str, feed: Callable[[], Awaitable[object]], n: int,
                   probe: Probe | None = None) -> Result:
    for _ in range(min(50, n)):  # warm-up: caches, compiled statements, pool
        await feed()
    gc.collect()
    samples, db, api = [], [], []
    for _ in range(n):
        if probe is not None:
            probe.reset()
        started = time.perf_counter_ns()
        await feed()
        samples.append((time.perf_counter_ns() - started) / 1e6)
        if probe is not None:
            db.append(probe.db_ns / 1e6)
            api.append(probe.api_ns / 1e6)
    samples.sort()
    result = Result(name, statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))])
    if probe is not None:
        result.db_ms, result.api_ms = statistics.median(db), statistics.median(api)
    return result


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


async def _an_order(services: object, user_id: int) -> int:
    async with services.db.read() as conn:  # type: ignore[attr-defined]
        row = (await conn.exec_driver_sql(
            "SELECT id FROM orders WHERE user_id = ? AND status = 'shipped' AND deleted_at IS NULL "
            "ORDER BY created_at DESC LIMIT 1", (user_id,))).first()
    return int(row[0])


async def kabinet(db_path: Path, n: int, user_id: int = BENCH_USER) -> list[Result]:
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{db_path}",  # type: ignore[call-arg]
                        throttle_rate=0)  # one user's screens, fed back to back
    services = build_services(settings)
    dp = build_dispatcher(settings, services)
    session = FakeSession()
    bot = build_bot(settings, session=session)
    user = TgUser(id=user_id, is_bot=False, first_name="Maria", language_code="ru")
    order_id = await _an_order(services, user_id)
    cases: list[tuple[str, Callable[[], Update]]] = [
        ("/start (existing user)", lambda: _message(user, "/start", bot)),
        ("main menu (button)", lambda: _press(user, NavCb(action=NavAction.menu).pack(), bot)),
        ("settings (button)", lambda: _press(user, MenuCb(section="settings").pack(), bot)),
        ("help (button)", lambda: _press(user, MenuCb(section="help").pack(), bot)),
        ("text outside a flow", lambda: _message(user, "hello", bot)),
        ("orders: page 1 of 1000", lambda: _press(user, list_cb(Tab.all, 0).pack(), bot)),
        ("orders: page 20 of 1000", lambda: _press(user, list_cb(Tab.all, 19).pack(), bot)),
        ("order card", lambda: _press(user, OrderCb(action=OrderAction.open, id=order_id).pack(), bot)),
        ("addresses (5)", lambda: _press(user, MenuCb(section="addresses").pack(), bot)),
        ("bank cards (3)", lambda: _press(user, MenuCb(section="cards").pack(), bot)),
        ("coupons (40)", lambda: _press(user, MenuCb(section="coupons").pack(), bot)),
    ]
    results = []
    try:
        for name, make in cases:
            results.append(await _measure(name, lambda make=make: dp.feed_update(bot, make()), n))
        # where the time goes, in a second pass with the probe installed (it costs a little itself)
        probe = Probe().install(session)
        try:
            for result, (name, make) in zip(results, cases, strict=True):
                timed = await _measure(name, lambda make=make: dp.feed_update(bot, make()), max(5, n // 4), probe)
                result.db_ms, result.api_ms, result.probed_ms = timed.db_ms, timed.api_ms, timed.median_ms
        finally:
            probe.uninstall()
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
    """One row per update; the last columns split the median of a second pass with the probe
    installed: database, Bot API client, and the rest (aiogram, middlewares, handler, view)."""
    lines = ["| update | median ms | p99 ms | p99 × floor | median × floor | db ms | Bot API ms | rest ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    floor = results[0].median_ms if results else 1.0
    for r in results:
        split = "| – | – | –"
        if r.db_ms is not None and r.api_ms is not None:
            total = r.probed_ms if r.probed_ms is not None else r.median_ms
            split = f"| {r.db_ms:.2f} | {r.api_ms:.2f} | {max(0.0, total - r.db_ms - r.api_ms):.2f}"
        lines.append(f"| {r.name} | {r.median_ms:.3f} | {r.p99_ms:.3f} | {r.ratio:.1f}× | "
                     f"{r.median_ms / floor:.1f}× {split} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(table(asyncio.run(run(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2000))))
