"""The shop API under sustained load (issue 19), on SQLite, in the bot's own process and event loop
as `main.py` runs it: `clients` shop clients, each in a loop — place an order for a linked
customer, mark it paid, read the customer's orders — over real HTTP on the loopback (aiohttp's
client and server), for `seconds`. Requests a second and latency per kind; and the bot's busy
screens (the order list, an order card) sampled in the same loop, first alone, then while the API
is under that load: what a buyer feels while a shop pushes orders."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiogram.types import Update
from aiogram.types import User as TgUser
from aiohttp import web

from bench.sections import BENCH_USER
from bench.updates import _message, _press, continue_update_ids
from bot.api import ApiConfig, build_api
from bot.app import build_bot, build_dispatcher, build_services, prepare_database
from bot.config import Settings
from bot.fakebot import FakeSession
from bot.keyboards.orders import OrderAction, OrderCb, Tab, list_cb

ORDER = {"currency": "USD", "shipping_minor": 300,
         "items": [{"title": "Wireless earbuds", "quantity": 1, "unit_price_minor": 2599}],
         "address": {"recipient": "Alex Doe", "street": "1 Main St", "city": "Springfield", "country": "US"}}


@dataclass
class Kind:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass
class ApiRun:
    seconds: float
    clients: int
    kinds: list[Kind]
    screens_alone: list[float]
    screens_loaded: list[float]


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


async def run(db_path: Path, seconds: float = 10.0, clients: int = 8, screens: int = 300) -> ApiRun:
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{db_path}",  # type: ignore[call-arg]
                        throttle_rate=1000, throttle_burst=1000)
    prepare_database(settings)  # a reused dataset may predate the shops' tables
    services = build_services(settings)
    await continue_update_ids(services.db)  # a reused dataset has seen the ids a previous run sent
    dp = build_dispatcher(settings, services)
    bot = build_bot(settings, session=FakeSession())
    runner = web.AppRunner(build_api(services, ApiConfig(bot_username="bench_bot", rate=1e6, burst=10**6)),
                           access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}/api/v1"
    stamp = time.time_ns()
    made = await services.shops.add(f"Bench shop {stamp}")
    headers = {"Authorization": f"Bearer {made.key}"}
    idem = itertools.count()
    user = TgUser(id=BENCH_USER, is_bot=False, first_name="Maria", language_code="ru")
    try:
        async with aiohttp.ClientSession(headers=headers) as http:
            async def post(path: str, body: object | None = None) -> tuple[int, dict]:
                async with http.post(base + path, json=body,
                                     headers={"Idempotency-Key": f"b-{stamp}-{next(idem)}"}) as response:
                    return response.status, await response.json()

            _, found = await post("/stores", {"name": f"Bench store {stamp}"})
            store_id = found["id"]
            _, link = await post("/customers/bench-1/link")
            await services.customers.redeem(link["start_parameter"], BENCH_USER)
            _, first = await post("/customers/bench-1/orders", {**ORDER, "store_id": store_id})
            order_id = (await services.orders.by_number(first["number"])).id

            makes: list[Callable[[], Update]] = [
                lambda: _press(user, list_cb(Tab.all, 0).pack(), bot),
                lambda: _press(user, OrderCb(action=OrderAction.open, id=order_id).pack(), bot),
            ]
            await dp.feed_update(bot, _message(user, "/start", bot))

            async def sample(n: int) -> list[float]:
                taken = []
                for i in range(n):
                    update = makes[i % len(makes)]()
                    started = time.perf_counter_ns()
                    await dp.feed_update(bot, update)
                    taken.append((time.perf_counter_ns() - started) / 1e6)
                    await asyncio.sleep(0.002)  # a person, not a loop: the API gets the loop between
                return taken

            alone = await sample(screens)
            kinds = [Kind("place an order"), Kind("mark it paid"), Kind("read the customer's orders")]
            stop_at = time.perf_counter() + seconds

            async def client() -> None:
                while time.perf_counter() < stop_at:
                    started = time.perf_counter_ns()
                    status, order = await post("/customers/bench-1/orders", {**ORDER, "store_id": store_id})
                    _record(kinds[0], started, status == 201)
                    started = time.perf_counter_ns()
                    status, _ = await post(f"/orders/{order.get('number')}/status",
                                           {"status": "paid", "card": {"last4": "4242"}})
                    _record(kinds[1], started, status == 200)
                    started = time.perf_counter_ns()
                    async with http.get(f"{base}/customers/bench-1/orders") as response:
                        await response.read()
                    _record(kinds[2], started, response.status == 200)

            async def loaded() -> list[float]:
                taken: list[float] = []
                while time.perf_counter() < stop_at:
                    taken += await sample(10)
                return taken

            *_, under_load = await asyncio.gather(*(client() for _ in range(clients)), loaded())
    finally:
        await runner.cleanup()
        await services.viewed.flush()
        await services.db.dispose()
    return ApiRun(seconds, clients, kinds, alone, under_load)


def _record(kind: Kind, started: int, ok: bool) -> None:
    kind.latencies.append((time.perf_counter_ns() - started) / 1e6)
    if not ok:
        kind.errors += 1


def table(result: ApiRun) -> str:
    lines = [f"{result.clients} clients for {result.seconds:.0f} s, each: place an order, mark it paid, read the "
             "customer's orders (real HTTP on the loopback, SQLite, the bot's process)", "",
             "| request | per second | median ms | p99 ms | errors |", "| --- | ---: | ---: | ---: | ---: |"]
    total = 0
    for kind in result.kinds:
        total += len(kind.latencies)
        lines.append(f"| {kind.name} | {len(kind.latencies) / result.seconds:.0f} | "
                     f"{statistics.median(kind.latencies or [0]):.2f} | {_p99(kind.latencies):.2f} | {kind.errors} |")
    lines.append(f"| all | {total / result.seconds:.0f} | – | – | {sum(k.errors for k in result.kinds)} |")
    lines += ["", "| bot screens (order list, order card) | samples | median ms | p99 ms |", "| --- | ---: | ---: | ---: |"]
    for name, values in (("alone", result.screens_alone), ("while the API is under load", result.screens_loaded)):
        lines.append(f"| {name} | {len(values)} | {statistics.median(values or [0]):.2f} | {_p99(values):.2f} |")
    return "\n".join(lines)
