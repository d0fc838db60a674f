"""Update handling: the same update types through `Dispatcher.feed_update` with a fake session
that answers at once. (a) bare aiogram with a trivial handler is the floor; (b) Kabinet's screens.
Median and p99 per update, and p99 as a multiple of the floor's p99 (goal: ≤ 5×). The update
types are measured in turns, so noise from the rest of the machine falls on all of them alike; the
update object is built before the clock starts."""

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
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, Chat, Message, Update
from aiogram.types import User as TgUser

from bench.postgres import Target, url_of
from bench.sections import BENCH_USER
from bot.app import Services, build_bot, build_dispatcher, build_services
from bot.config import Settings
from bot.db.engine import Database
from bot.fakebot import FakeSession
from bot.keyboards.catalog import CheckoutAction, CheckoutCb, ProductAction, ProductCb, ShopAction, ShopCb
from bot.keyboards.common import MenuCb, NavAction, NavCb
from bot.keyboards.orders import OrderAction, OrderCb, Tab, list_cb
from bot.services.housekeeping import last_update_id

_ids = itertools.count(1)


async def continue_update_ids(db: Database) -> None:
    """Update ids after those the database has seen: a reused dataset keeps the last run's in
    `processed_updates`, and the bot drops an update it has handled (de-duplication), so a run
    that started from 1 again would time no-ops."""
    global _ids
    _ids = itertools.count(await last_update_id(db) + 1)


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
                            (AsyncTransaction, "commit"), (Database, "fetch_one"), (Database, "fetch_all")):
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


@dataclass
class Case:
    """One update type: `make` builds a fresh update (outside the timed part), `dp` handles it."""

    name: str
    dp: Dispatcher
    bot: Bot
    make: Callable[[], Update]
    prepare: Callable[[], Awaitable[None]] | None = None  # before each update, not timed (a checkout's summary)

    async def feed(self) -> None:
        if self.prepare is not None:
            await self.prepare()
        await self.dp.feed_update(self.bot, self.make())

    async def timed(self, starting: Callable[[], None] = lambda: None) -> float:
        """One update, timed; `starting` is called once the preparation is done, as the clock
        starts (the probe's split counts the timed update only)."""
        if self.prepare is not None:
            await self.prepare()
        update = self.make()
        starting()
        started = time.perf_counter_ns()
        await self.dp.feed_update(self.bot, update)
        return (time.perf_counter_ns() - started) / 1e6


def _result(name: str, samples: list[float]) -> Result:
    samples = sorted(samples)
    return Result(name, statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))])


async def _measure(cases: list[Case], n: int) -> list[Result]:
    """n samples of each case, taken in turns (one of each, then again), so that a busy moment of
    the machine falls on every case alike and the ratios to the floor stay fair."""
    for _ in range(min(50, n)):  # warm-up: caches, compiled statements, pool
        for case in cases:
            await case.feed()
    gc.collect()
    samples: list[list[float]] = [[] for _ in cases]
    for _ in range(n):
        for case, into in zip(cases, samples, strict=True):
            into.append(await case.timed())
    return [_result(case.name, s) for case, s in zip(cases, samples, strict=True)]


async def _split(case: Case, n: int, probe: Probe) -> Result:
    """A second pass of one case with the probe installed: where the median goes."""
    for _ in range(min(20, n)):
        await case.feed()
    samples, db, api = [], [], []
    for _ in range(n):
        samples.append(await case.timed(probe.reset))
        db.append(probe.db_ns / 1e6)
        api.append(probe.api_ns / 1e6)
    result = _result(case.name, samples)
    result.db_ms, result.api_ms = statistics.median(db), statistics.median(api)
    return result


PRODUCT = 1042  # a product of the bench catalog (bench/sections.py build_products: 2,000 at least)
SEARCH = "wireless earbuds"  # both words: 1 title in 80 (~1,250 products at full size, 25 in a smoke run)


async def _checkout_summary(services: Services, dp: Dispatcher, bot: Bot,
                            user_id: int) -> Callable[[], Awaitable[None]] | None:
    """What puts the bench user at a checkout's summary (one product, their default address and a
    card of theirs still valid), as Buy now and its steps would: the FSM state and draft."""
    from bot.handlers.checkout import ADDRESS, CARD, CHOSEN, COUPONS, ITEMS, SOURCE, CheckoutFlow

    book = await services.addresses.list(user_id)
    cards = [c for c in await services.cards.wallet(user_id) if not c.expired]
    product = await services.catalog.product(user_id, PRODUCT, record=False)
    if not book or not cards:
        return None
    key = StorageKey(bot_id=bot.id, chat_id=user_id, user_id=user_id)
    draft = {ITEMS: [[PRODUCT, "", 1, product.product.price_minor, 0]], SOURCE: "product", ADDRESS: book[0].id,
             COUPONS: [], CHOSEN: True, CARD: cards[0].id}

    async def prepare() -> None:
        await dp.storage.set_state(key, CheckoutFlow.summary)
        await dp.storage.set_data(key, draft)

    return prepare


def bare_floor() -> Case:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer("ok")

    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot("1:bench", session=FakeSession())
    user = TgUser(id=1, is_bot=False, first_name="B")
    return Case("bare aiogram: text → answer", dp, bot, lambda: _message(user, "hi", bot))


async def _an_order(services: object, user_id: int) -> int:
    row = await services.db.fetch_one(  # type: ignore[attr-defined]
        "SELECT id FROM orders WHERE user_id = ? AND status = 'shipped' AND deleted_at IS NULL "
        "ORDER BY created_at DESC LIMIT 1", (user_id,))
    assert row is not None
    return int(row["id"])


async def _checkpoint_every_second(db: Database) -> None:
    """The runtime's WAL checkpoint job (bot/runner.py): without it the WAL of a long run grows to
    the commits' own limit, and every read looks pages up in it."""
    while True:
        await asyncio.sleep(1.0)
        await db.checkpoint()


async def run(db_path: Target, n: int, user_id: int = BENCH_USER, only: str = "") -> list[Result]:
    """The floor and Kabinet's screens, measured in turns; then each screen once more with the
    probe, for the split of its median (database, Bot API client, the rest). `only`: the screens
    whose name has these words (the floor always runs)."""
    settings = Settings(_env_file=None, database_url=url_of(db_path),  # type: ignore[call-arg]
                        throttle_rate=1000, throttle_burst=1000)  # flood protection runs (its cost counts), never drops
    services = build_services(settings)
    await continue_update_ids(services.db)  # a reused dataset has seen the ids a previous run sent
    dp = build_dispatcher(settings, services)
    session = FakeSession()
    bot = build_bot(settings, session=session)
    user = TgUser(id=user_id, is_bot=False, first_name="Maria", language_code="ru")
    checkpoints = asyncio.create_task(_checkpoint_every_second(services.db))  # as the runtime does
    try:
        order_id = await _an_order(services, user_id)
        screens: list[tuple[str, Callable[[], Update]]] = [
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
            ("product card (100k products)", lambda: _press(user, ProductCb(action=ProductAction.open,
                                                                             id=PRODUCT).pack(), bot)),
            ("search: page 1 (100k products)", lambda: _press(user, ShopCb(action=ShopAction.results,
                                                                           page=0).pack(), bot)),
            ("search: page 2 (100k products)", lambda: _press(user, ShopCb(action=ShopAction.results,
                                                                           page=1).pack(), bot)),
            ("find similar (100k products)", lambda: _press(user, ProductCb(action=ProductAction.similar,
                                                                             id=PRODUCT).pack(), bot)),
        ]
        screens = [(name, make) for name, make in screens if only in name]

        async def searched() -> None:
            """SEARCH's results, as a person paging them, whatever another case left the user in (a
            checkout's summary leaves no search words for the pages). Nothing of a search is kept
            between its pages: each page reads the index again."""
            await dp.feed_update(bot, _press(user, ShopCb(action=ShopAction.search).pack(), bot))
            await dp.feed_update(bot, _message(user, SEARCH, bot))

        cases = [bare_floor(), *(Case(name, dp, bot, make, searched if "search: page" in name else None)
                                 for name, make in screens)]
        typed = "search: typed (100k products)"
        if only in typed:  # the words typed and searched: a unit of work (the words kept for the pages)

            async def to_search() -> None:
                await dp.feed_update(bot, _press(user, ShopCb(action=ShopAction.search).pack(), bot))

            cases.append(Case(typed, dp, bot, lambda: _message(user, SEARCH, bot), to_search))
        summary = await _checkout_summary(services, dp, bot, user_id) if only in "checkout: Place order" else None
        if summary is not None:  # Place order: an order made and paid, from a checkout's summary
            cases.append(Case("checkout: Place order (and pay)", dp, bot,
                              lambda: _press(user, CheckoutCb(action=CheckoutAction.place).pack(), bot), summary))
        await dp.feed_update(bot, _message(user, "/start", bot))  # the chat's first message, which buttons edit
        # a search made once, as a person does: its words stay in FSM data for its pages
        await dp.feed_update(bot, _press(user, ShopCb(action=ShopAction.search).pack(), bot))
        await dp.feed_update(bot, _message(user, SEARCH, bot))
        results = await _measure(cases, n)
        probe = Probe().install(session)
        try:
            for result, case in zip(results[1:], cases[1:], strict=True):
                timed = await _split(case, max(5, n // 4), probe)
                result.db_ms, result.api_ms, result.probed_ms = timed.db_ms, timed.api_ms, timed.median_ms
        finally:
            probe.uninstall()
    finally:
        checkpoints.cancel()
        await asyncio.gather(checkpoints, return_exceptions=True)
        await services.viewed.flush()  # Recently viewed is written behind (the runner's job)
        await services.db.dispose()
    floor = results[0]
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
