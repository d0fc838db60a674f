"""Crash and restart of the real process, as a person would live through it.

The bot runs as `main.py` in a process of its own (tests/botproc.py) against a Bot API server on
loopback (tests/botapi_emulator.py) that answers 10% of the bot's sending calls with 429 and 5%
with 502. In every cycle a person starts something — adds an address, adds a card, or waits for
pushes about their orders — and the process is killed with SIGKILL at a random one of the bot's
calls along the way (seeded, so a run can be replayed). The person then does what a person does:
restarts nothing, just carries on from what the chat shows (answers the question on screen,
presses the button again, opens the list to see whether it was saved). The bot is started again
whenever it is down.

After each cycle the database must hold exactly what the person completed: one address, one card,
every push delivered. The suite prints the figures: cycles, kills, faults injected, what was lost
(0 is the rule) and what was sent twice (only the pushes in flight at the kill may be: delivery is
at least once, README "The duplicate window").

CRASH_CYCLES (default 12; `pytest --long`: 200) sets the number of cycles, CRASH_SEED the seed,
CRASH_FAULTS the shares of 429s and 5xx ("0.10,0.05"), CRASH_LANES how many bots run side by side
(4), and CRASH_DEBUG=1 prints what the person does (with `-s`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.botapi_emulator import BotApiEmulator, Faults
from tests.botproc import BotProcess, main_py
from tests.figures import report

TOKEN = "654321:CRASH-token"
CYCLES = int(os.environ.get("CRASH_CYCLES", "12"))
SEED = int(os.environ.get("CRASH_SEED", "20261206"))
PATIENCE = 45.0  # seconds a person waits for an answer from a running bot before looking again
START_WAIT = 300.0  # seconds a start may take on a loaded machine (an import-heavy process, 4 at once)
SETTLE = 1.0  # seconds of a still chat after which a person reads the answer
REPLY_WAIT = 6.0  # seconds a person gives a restarted bot to answer what they sent before
LANES = int(os.environ.get("CRASH_LANES", "4"))  # bots side by side (their waiting overlaps)


@dataclass
class Figures:
    cycles: int = 0
    kills: int = 0
    starts: int = 0
    repeats: int = 0  # inputs a person had to give again (the process died before answering)
    lost: Counter[str] = field(default_factory=Counter)
    duplicated: Counter[str] = field(default_factory=Counter)
    done: Counter[str] = field(default_factory=Counter)

    def line(self, injected: dict[str, int]) -> str:
        lost, dup = sum(self.lost.values()), sum(self.duplicated.values())
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.done.items()))
        return (f"crash-and-restart: {self.cycles} cycles ({kinds}), {self.kills} SIGKILLs, "
                f"{self.starts} starts, {injected['429']} 429s and {injected['5xx']} 5xx injected, "
                f"{self.repeats} inputs repeated after a kill, {lost} lost, "
                f"{dup} duplicated pushes (in flight at a kill), "
                f"{lost + sum(v for k, v in self.duplicated.items() if k != 'push')} failures")


class Process:
    """`main.py` as a process (tests/botproc.py) over the emulator; killed by the emulator at the
    armed call."""

    def __init__(self, api: BotApiEmulator, db: Path, figures: Figures) -> None:
        self.api, self.db, self.figures = api, db, figures
        self.proc: BotProcess | None = None
        self.kill_at: int | None = None  # kill before answering the bot's n-th sending call from now
        self.sending = 0
        self.log = bytearray()
        self.reader: asyncio.Task[None] | None = None
        api.faults.before = self._before

    def _before(self, method: str, params: dict[str, Any]) -> None:
        self.sending += 1
        if self.kill_at is not None and self.sending >= self.kill_at and self.alive:
            self.kill_at = None
            assert self.proc is not None
            os.kill(self.proc.pid, signal.SIGKILL)
            self.figures.kills += 1

    def arm(self, calls: int) -> None:
        self.sending, self.kill_at = 0, calls

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def ensure(self) -> None:
        if self.alive:
            return
        if self.proc is not None:
            await self.proc.wait()
            if self.reader is not None:
                await self.reader
        env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": self.api.base,
               "DATABASE_URL": f"sqlite+aiosqlite:///{self.db}", "LOG_LEVEL": "WARNING",
               "DELIVERY_INTERVAL": "0.5", "DELIVERY_LEASE": "3", "SWEEP_INTERVAL": "1",
               "THROTTLE_RATE": "0", "SHUTDOWN_TIMEOUT": "5"}
        polls = self._polls()
        self.proc = await main_py(env)
        self.reader = asyncio.create_task(self._read(self.proc))
        self.figures.starts += 1
        started = asyncio.get_running_loop().time()
        await self.api.wait_for(lambda a: self._polls() > polls or not self.alive, timeout=START_WAIT)
        assert self.alive, self.log.decode(errors="replace")[-3000:]
        if os.environ.get("CRASH_DEBUG"):
            print(f"start took {asyncio.get_running_loop().time() - started:.1f}s")

    async def _read(self, proc: BotProcess) -> None:
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            self.log.extend(chunk)
        await proc.wait()  # the output ends with the process: tell the waiters it is gone at once
        await self.api.poke()

    def _polls(self) -> int:
        return sum(1 for method, _ in self.api.calls if method == "getupdates")

    async def stop(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 30)
        if self.reader is not None:
            await self.reader


class Person:
    """A user who reads the last thing the bot showed them and acts on it."""

    def __init__(self, api: BotApiEmulator, bot: Process, user_id: int, figures: Figures) -> None:
        self.api, self.bot, self.figures = api, bot, figures
        self.user = {"id": user_id, "is_bot": False, "first_name": "Crash", "language_code": "en"}

    def screen(self) -> tuple[str, list[str]]:
        """The text and buttons of the message the bot changed last in this chat (a question or a
        screen with buttons, not a hint or a notice beside it)."""
        chat = self.user["id"]
        for touched_chat, message_id in reversed(self.api.touched):
            message = self.api.messages[chat].get(message_id) if touched_chat == chat else None
            if message is None:
                continue
            labels = [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                      for b in row]
            if labels or " step " in message.get("text", ""):
                return message.get("text", ""), labels
        return "", []

    def trace(self) -> str:
        chat = str(self.user["id"])
        mine = [(m, {k: str(v)[:80] for k, v in p.items() if k != "reply_markup"}) for m, p in self.api.calls
                if str(p.get("chat_id")) == chat or m == "answercallbackquery"]
        return "\n".join(map(str, mine[-25:])) + "\n" + self.bot.log.decode(errors="replace")[-3000:]

    def _answers(self) -> int:
        chat = self.user["id"]
        return sum(1 for touched_chat, _ in self.api.touched if touched_chat == chat)

    async def _act(self, act: Callable[[], Awaitable[None]]) -> None:
        """Do something and wait for the bot's answer. A person waits while the bot is up (Telegram
        shows it is working; answers can be slowed by 429s), and looks at the chat again when the
        bot was down or nothing came for a long while — then the caller acts on what it shows."""
        await self.bot.ensure()
        before = self._answers()
        await act()
        try:
            await self.api.wait_for(lambda a: self._answers() > before or not self.bot.alive, PATIENCE)
        except TimeoutError:
            self.figures.repeats += 1
            return
        if not self.bot.alive:
            self.figures.repeats += 1
            await self.bot.ensure()
            # the restarted bot may still answer what was queued while it was down
            with contextlib.suppress(TimeoutError):
                await self.api.wait_for(lambda a: self._answers() > before, REPLY_WAIT)
        await self._settle()

    async def _settle(self) -> None:
        """An answer can be several messages (a notice, then the question again): read the chat
        once it has been still for a moment, as a person reads the whole answer."""
        while self.bot.alive:
            seen = self._answers()
            try:
                await self.api.wait_for(lambda a, seen=seen: self._answers() > seen or not self.bot.alive, SETTLE)
            except TimeoutError:
                return

    async def send(self, text: str) -> None:
        if os.environ.get("CRASH_DEBUG"):
            print(f"{self.user['id']} sends {text!r} on {self.screen()[0][:60]!r}", flush=True)
        await self._act(lambda: self.api.user_sends(self.user, text))

    async def press(self, label: str) -> None:
        if os.environ.get("CRASH_DEBUG"):
            print(f"{self.user['id']} presses {label!r} on {self.screen()[0][:60]!r}", flush=True)
        async def act() -> None:
            try:
                await self.api.user_presses(self.user, label)
            except AssertionError:  # the button is gone: start over from the menu
                await self.api.user_sends(self.user, "/start")
        await self._act(act)


def count(db: Path, sql: str, *args: Any) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute(sql, args).fetchone()[0]


ADDRESS = {1: "US", 2: "John Smith", 3: "+1 617 555 0123", 4: "MA", 5: "Boston", 6: "1 Main St",
           8: "02110"}
CARD = {1: "4242 4242 4242 4242", 2: "12/29", 3: "ivan petrov", 4: "123"}


async def add_address(person: Person) -> None:
    for _ in range(60):
        text, labels = person.screen()
        if "Address saved" in text or ("Shipping addresses" in text and "John Smith" in text):
            return
        step = _step(text, 8)
        if "Check the new address" in text and "✅ Save" in labels:
            # an answer given twice (the bot died before saying it had it) lands on the next
            # question: a person reads the summary and corrects what is not theirs
            wrong = _wrong_field(text)
            await person.press(f"✏️ {wrong}" if wrong else "✅ Save")
        elif step == 7:
            await person.press("⏭ Skip")
        elif step:
            await person.send(ADDRESS[step])
        elif "➕ Add an address" in labels:
            await person.press("➕ Add an address")
        elif "📍 Shipping addresses" in labels:
            await person.press("📍 Shipping addresses")
        else:
            await person.send("/start")
    raise AssertionError(f"the address flow never ended: {person.screen()}\n{person.trace()}")


async def add_card(person: Person) -> None:
    for _ in range(60):
        text, labels = person.screen()
        if "Card added" in text or ("Bank cards" in text and "•••• 4242" in text):
            return
        step = _step(text, 4)
        if step:
            await person.send(CARD[step])
        elif "➕ Add a card" in labels:
            await person.press("➕ Add a card")
        elif "💳 Bank cards" in labels:
            await person.press("💳 Bank cards")
        else:
            await person.send("/start")
    raise AssertionError(f"the card flow never ended: {person.screen()}\n{person.trace()}")


SUMMARY = {"Country": "United States", "Recipient": "John Smith", "Phone": "📞 +1 617-555-0123",
           "Street and house": "1 Main St", "City": "Boston, ", "Region": ", MA 02110", "ZIP code": " 02110"}


def _wrong_field(summary: str) -> str | None:
    """The first field of the address summary that differs from what the person typed."""
    lines = summary.split("\n")
    body = lines[2:lines.index("", 2)] if "" in lines[2:] else lines[2:]
    for field_name, shown in SUMMARY.items():
        if not any(shown in line for line in body):
            return field_name
    expected = {"John Smith", "1 Main St", "Boston, MA 02110", "United States", "📞 +1 617-555-0123"}
    return "Apartment" if set(body) - expected else None


def _step(text: str, of: int) -> int:
    for k in range(1, of + 1):
        if f"step {k} of {of}" in text:
            return k
    return 0


async def test_crash_and_restart_cycles(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """LANES bots run side by side, each over its own database and Bot API server, so the cycles'
    waiting (a restart, a push backing off after a 502) overlaps; the figures add them up."""
    cycles = int(os.environ.get("CRASH_CYCLES", CYCLES))
    figures = Figures()
    injected = {"429": 0, "5xx": 0}
    shares = [cycles // LANES + (lane < cycles % LANES) for lane in range(LANES)]
    await asyncio.gather(*(lane_run(tmp_path / f"lane{lane}", lane, n, figures, injected)
                           for lane, n in enumerate(shares) if n))
    line = figures.line(injected)
    report(request, line)
    assert figures.cycles == cycles, line
    assert figures.kills >= cycles * 0.8, line
    assert sum(figures.lost.values()) == 0, (line, figures.lost)
    assert not {k: v for k, v in figures.duplicated.items() if k != "push" and v}, (line, figures.duplicated)
    # at least once: only what was in flight at the kill (one message a chat) can come twice
    assert figures.duplicated["push"] <= figures.done["push"], line


def _make_dir(folder: Path) -> None:
    folder.mkdir()


async def lane_run(folder: Path, lane: int, cycles: int, figures: Figures, injected: dict[str, int]) -> None:
    from bot.app import build_services, prepare_database
    from bot.config import Settings
    from tests.orderkit import VISA, place

    _make_dir(folder)
    rng = random.Random(SEED + lane)
    db = folder / "k.sqlite3"
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{db}")  # type: ignore[call-arg]
    prepare_database(settings)
    services = build_services(settings)  # the shop's side: places and ships orders meanwhile
    api = BotApiEmulator(TOKEN)
    await api.start()
    p429, p5xx = (float(x) for x in os.environ.get("CRASH_FAULTS", "0.10,0.05").split(","))
    api.faults = Faults(p429=p429, p5xx=p5xx, seed=SEED + lane)
    bot = Process(api, db, figures)
    try:
        await bot.ensure()
        for cycle in range(cycles):
            kind = ("address", "card", "push")[(cycle + lane) % 3]
            person = Person(api, bot, 7_000_000 + 1000 * lane + cycle, figures)
            if kind == "address":
                bot.arm(rng.randint(1, 14))
                await add_address(person)
                saved = count(db, "SELECT count(*) FROM addresses WHERE user_id = ?", person.user["id"])
                figures.lost["address"] += saved == 0
                figures.duplicated["address"] += max(0, saved - 1)
            elif kind == "card":
                bot.arm(rng.randint(1, 10))
                await add_card(person)
                saved = count(db, "SELECT count(*) FROM cards WHERE user_id = ? AND token IS NOT NULL",
                              person.user["id"])
                figures.lost["card"] += saved == 0
                figures.duplicated["card"] += max(0, saved - 1)
            else:
                await push_cycle(person, services, rng, bot, api, figures, place, VISA)
            figures.cycles += 1
            figures.done[kind] += 1
    finally:
        await bot.stop()
        await services.db.dispose()
        await api.stop()
        for key, n in api.faults.injected.items():
            injected[key] += n


async def push_cycle(person: Person, services: Any, rng: random.Random, bot: Process, api: BotApiEmulator,
                     figures: Figures, place: Any, card: Any) -> None:
    """Five of the person's orders are shipped at once; the bot is killed while pushing them."""
    user_id = person.user["id"]
    await person.send("/start")
    numbers = []
    for _ in range(5):
        order = await place(services, user_id)
        await services.orders.mark_paid(user_id, order.id, card)
        numbers.append(order.number)
    bot.arm(rng.randint(1, 6))
    for number in numbers:
        order = await services.orders.by_number(number)
        await services.orders.ship(user_id, order.id, f"LP{order.id:09d}CN", "cainiao")

    def delivered() -> Counter[str]:
        """What reached the chat (a send refused with 429 or 502 did not)."""
        seen: Counter[str] = Counter()
        for text in api.bot_texts(user_id):
            for number in numbers:
                if number in text and "🚚" in text:
                    seen[number] += 1
        return seen

    with contextlib.suppress(TimeoutError):
        await api.wait_for(lambda a: len(delivered()) == len(numbers) or not bot.alive, timeout=60)
    if not bot.alive:
        await bot.ensure()
    with contextlib.suppress(TimeoutError):
        await api.wait_for(lambda a: len(delivered()) == len(numbers), timeout=90)
    seen = delivered()
    figures.lost["push"] += sum(1 for number in numbers if not seen[number])
    figures.duplicated["push"] += sum(n - 1 for n in seen.values() if n > 1)
