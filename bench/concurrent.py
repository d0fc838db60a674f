"""Concurrent update handling: N users' updates in flight at once, as polling delivers them.

aiogram's polling hands each update of a batch to its own task, so N users pressing at the same
moment are N `feed_update` calls running together. Each round here starts one update for each of
N users (different users: one user's updates are serialised by the event isolation) with
`asyncio.gather` and waits for all; updates per second over the rounds. Bare aiogram (a trivial
text → answer handler) at the same concurrency is the floor, its rounds taken in turns with
Kabinet's so that noise from the rest of the machine falls on both alike; "× floor" is how many
times longer Kabinet takes per update than the floor (the floor's updates/s ÷ Kabinet's). The
screens are the busy read screens, mixed in every round: the order list, the order card, the
coupons wallet, the main menu."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.types import User as TgUser

from bench.postgres import Target, url_of
from bench.sections import BENCH_USER
from bench.updates import _message, _press, bare_floor, continue_update_ids
from bot.app import build_bot, build_dispatcher, build_services
from bot.config import Settings
from bot.fakebot import FakeSession
from bot.keyboards.common import MenuCb, NavAction, NavCb
from bot.keyboards.orders import OrderAction, OrderCb, Tab, list_cb

CONCURRENCY = (1, 8, 32)


@dataclass
class Throughput:
    concurrency: int
    floor_per_s: float  # bare aiogram, updates a second
    kabinet_per_s: float
    errors: int = 0  # updates that failed (logged at ERROR): a run with any is not a measurement

    @property
    def ratio(self) -> float:
        return self.floor_per_s / self.kabinet_per_s


class _Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class _Side:
    """One side of the comparison: a dispatcher, its bot and the makers of its updates."""

    dp: Dispatcher
    bot: Bot
    makers: list[Callable[[], Update]]

    def rounds(self, concurrency: int, count: int) -> list[list[Update]]:
        makers = self.makers
        return [[makers[(k * concurrency + i) % len(makers)]() for i in range(concurrency)] for k in range(count)]

    async def run(self, batch: list[Update]) -> float:
        started = time.perf_counter()
        await asyncio.gather(*(self.dp.feed_update(self.bot, u) for u in batch))
        return time.perf_counter() - started


async def _rates(floor: _Side, kabinet: _Side, concurrency: int, total: int) -> tuple[float, float]:
    """Updates a second of each side: rounds of `concurrency` updates in flight at once (one per
    maker, the makers taken in turns), `total` updates in all after a warm-up. The two sides run
    their rounds in turns, so a busy moment of the machine falls on both alike; the updates are
    built before the clock starts, as in bench/updates.py."""
    for side in (floor, kabinet):  # warm-up: pools, caches, the users' first contact
        for batch in side.rounds(concurrency, max(2, 40 // concurrency)):
            await side.run(batch)
    count = max(1, total // concurrency)
    pairs = list(zip(floor.rounds(concurrency, count), kabinet.rounds(concurrency, count), strict=True))
    gc.collect()
    spent = [0.0, 0.0]
    for floor_batch, kabinet_batch in pairs:
        spent[0] += await floor.run(floor_batch)
        spent[1] += await kabinet.run(kabinet_batch)
    return count * concurrency / spent[0], count * concurrency / spent[1]


async def _users(services: object, n: int) -> list[tuple[TgUser, int]]:
    """n users of the dataset who have a visible order, each with one of their orders (names as
    stored, so the user middleware has nothing to refresh)."""
    rows = [SimpleNamespace(**r) for r in await services.db.fetch_all(  # type: ignore[attr-defined]
        "SELECT u.id, u.first_name, u.username, u.locale,"
        " (SELECT o.id FROM orders o WHERE o.user_id = u.id AND o.deleted_at IS NULL"
        "  ORDER BY o.created_at DESC LIMIT 1) AS order_id"
        " FROM users u WHERE u.id >= ? ORDER BY u.id LIMIT ?", (BENCH_USER, n * 3))]
    found = [(TgUser(id=r.id, is_bot=False, first_name=r.first_name, username=r.username,
                     language_code=r.locale), int(r.order_id)) for r in rows if r.order_id is not None]
    return found[:n]


async def run(db_path: Target, total: int, concurrency: tuple[int, ...] = CONCURRENCY) -> list[Throughput]:
    settings = Settings(_env_file=None, database_url=url_of(db_path),  # type: ignore[call-arg]
                        throttle_rate=1000, throttle_burst=1000)
    services = build_services(settings)
    await continue_update_ids(services.db)  # a reused dataset has seen the ids a previous run sent
    dp = build_dispatcher(settings, services)
    bot = build_bot(settings, session=FakeSession())
    floor = bare_floor()
    results = []
    failures = _Failures()
    logging.getLogger().addHandler(failures)
    try:
        users = await _users(services, max(concurrency))
        for user, _order in users:  # each chat's first message, which the buttons' screens edit
            await dp.feed_update(bot, _message(user, "/start", bot))
        screens: list[Callable[[TgUser, int], Callable[[], Update]]] = [
            lambda u, _o: partial(_press, u, list_cb(Tab.all, 0).pack(), bot),
            lambda u, o: partial(_press, u, OrderCb(action=OrderAction.open, id=o).pack(), bot),
            lambda u, _o: partial(_press, u, MenuCb(section="coupons").pack(), bot),
            lambda u, _o: partial(_press, u, NavCb(action=NavAction.menu).pack(), bot),
        ]
        for n in concurrency:
            # round k gives user i the screen (k + i) mod 4: every round mixes the four screens
            makers = [screens[(k + i) % len(screens)](*users[i]) for k in range(len(screens)) for i in range(n)]
            floor_users = [TgUser(id=i + 1, is_bot=False, first_name="B") for i in range(n)]
            floor_makers = [partial(_message, u, "hi", floor.bot) for u in floor_users]
            bare, kabinet = await _rates(_Side(floor.dp, floor.bot, floor_makers), _Side(dp, bot, makers), n, total)
            results.append(Throughput(n, bare, kabinet, failures.count))
            failures.count = 0
    finally:
        logging.getLogger().removeHandler(failures)
        await services.db.dispose()
    return results


def table(results: list[Throughput]) -> str:
    lines = ["| updates in flight | bare aiogram, updates/s | Kabinet, updates/s | × floor (time per update) |",
             "| ---: | ---: | ---: | ---: |"]
    lines += [f"| {r.concurrency} | {r.floor_per_s:,.0f} | {r.kabinet_per_s:,.0f} | {r.ratio:.1f}× |"
              + (f" {r.errors} updates failed |" if r.errors else "") for r in results]
    return "\n".join(lines)
