"""Test kit for pushes: demo kinds registered only in tests, a delivery job on simulated time,
and a record of what reached the fake Telegram (when, to whom, with what outcome)."""

from __future__ import annotations

import contextlib
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy import select

from bot.db.tables import outbox as t
from bot.delivery import Delivery, DeliveryConfig, DeliveryReport
from bot.keyboards.common import MenuCb
from bot.services.clock import FakeClock
from bot.services.notifications import Category, declare, unregister_kind
from bot.services.outbox import enqueue
from bot.services.ratelimit import SendBudget, simulated_wait
from bot.services.users import Contact
from bot.views import pushes
from bot.views.common import Fmt, Screen, button
from tests.conftest import App


class ThingCb(CallbackData, prefix="tth"):
    id: int


def _order(p: dict[str, Any], f: Fmt) -> Screen:
    text = f"<b>Order #{p['order']}</b> update {p['n']}"
    if "amount" in p:
        text += "\n" + f.money(p["amount"], p.get("currency", "RUB"))
    if "at" in p:
        text += "\n" + f.datetime(datetime.fromisoformat(p["at"]))
    return Screen(text)


def _reminder(p: dict[str, Any], f: Fmt) -> Screen:
    return Screen(f"⏰ Reminder {p['n']}")


def _broken(p: dict[str, Any], f: Fmt) -> Screen:
    return Screen(f"needs {p['missing']}")


def _order_button(p: dict[str, Any], f: Fmt) -> Any:
    return button(f"Open order #{p['order']}", ThingCb(id=p["order"]))


TEST_KINDS: dict[str, tuple[Any, str, Any, str]] = {
    # kind: (render, category, button, label for the Settings toggle)
    "t_order": (_order, "order", _order_button, "Test: order updates"),
    "t_refund": (_order, "order", None, ""),
    "t_remind": (_reminder, "reminder", lambda p, f: button(f"Item {p['n']}", ThingCb(id=p["n"])),
                 "Test: reminders"),
    "t_promo": (_reminder, "reminder", lambda p, f: button(f"Promo {p['n']}", MenuCb(section="settings")),
                "Test: promotions"),
    "t_chat": (_order, "message", None, "Test: seller messages"),
    "t_broken": (_broken, "order", None, ""),
}


@contextlib.contextmanager
def demo_kinds() -> Iterator[None]:
    for i, (kind, (render, category, btn, label)) in enumerate(TEST_KINDS.items()):
        pushes.register_push(declare(kind, label, category=Category(category), order=i), render, button=btn)
    try:
        yield
    finally:
        for kind in TEST_KINDS:
            pushes.unregister_push(kind)
            unregister_kind(kind)


# -- what reached Telegram ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    chat: int
    text: str
    outcome: str  # "ok", "429", "403", "net", "500", "400"
    markup: Any = None


Script = Callable[[int, str, int], str]  # (chat, text, attempt number) → outcome


class Wire:
    """Every sendMessage that reached the fake Telegram, timed by the fake clock; a script decides
    each one's fate (ok, 429 with retry_after, 403, network error, 5xx, 400)."""

    def __init__(self, app: App, script: Script | None = None, retry_after: int = 3) -> None:
        self.app = app
        self.attempts: list[Attempt] = []
        self.script: Script = script or (lambda chat, text, n: "ok")
        self.retry_after = retry_after
        self.after: Callable[[Attempt], None] | None = None
        app.session.responders[SendMessage] = self._respond

    def _respond(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        assert isinstance(method, SendMessage)
        chat = int(method.chat_id)
        outcome = self.script(chat, method.text, len(self.attempts))
        attempt = Attempt(self.app.clock.now(), chat, method.text, outcome, method.reply_markup)
        self.attempts.append(attempt)
        if self.after is not None:
            self.after(attempt)
        if outcome == "429":
            raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=self.retry_after)
        if outcome == "403":
            raise TelegramForbiddenError(method=method, message="Forbidden: bot was blocked by the user")
        if outcome == "net":
            raise TelegramNetworkError(method=method, message="connection reset")
        if outcome == "500":
            raise TelegramServerError(method=method, message="Internal Server Error")
        if outcome == "400":
            raise TelegramBadRequest(method=method, message="Bad Request: can't parse entities")
        return self.app.session.answer(bot, method)

    @property
    def delivered(self) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome == "ok"]

    def texts(self, chat: int | None = None) -> list[str]:
        return [a.text for a in self.delivered if chat is None or a.chat == chat]

    def max_per_window(self, window: timedelta = timedelta(seconds=1)) -> int:
        """The most requests in any half-open window [t, t + window)."""
        times = sorted(a.at for a in self.attempts)
        best = start = 0
        for end, moment in enumerate(times):
            while times[start] <= moment - window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def min_chat_gap(self) -> timedelta | None:
        by_chat: dict[int, list[datetime]] = defaultdict(list)
        for a in self.attempts:
            by_chat[a.chat].append(a.at)
        gaps = [b - a for times in by_chat.values() for a, b in itertools.pairwise(times)]
        return min(gaps) if gaps else None


def sim_delivery(app: App, *, budget: SendBudget | None = None, **config: Any) -> Delivery:
    """The real delivery job on simulated time: waiting advances the fake clock. With `budget`,
    it leaves the replies counted there their room (as the running bot does)."""
    clock: FakeClock = app.clock
    return Delivery(app.services.outbox, app.bot, app.services.i18n, clock,
                    config=DeliveryConfig(**config), wait=simulated_wait(clock), budget=budget)


async def drain(app: App, delivery: Delivery, *, step: timedelta = timedelta(seconds=2),
                max_runs: int = 2000) -> DeliveryReport:
    """Run the job like the scheduler would (every `step`) until no row is pending or sending."""
    total = DeliveryReport()
    for _ in range(max_runs):
        total.add(await delivery(app.clock.now()))
        if not await active_rows(app):
            return total
        app.clock.advance(step)
    raise AssertionError(f"still active after {max_runs} runs: {await active_rows(app)}")


async def active_rows(app: App) -> int:
    async with app.services.db.read() as conn:
        rows = (await conn.execute(select(t.c.id).where(t.c.state.in_(("pending", "sending"))))).all()
    return len(rows)


async def states(app: App) -> dict[int, tuple[str, str | None, str | None]]:
    """row id → (state, drop_reason, last_error)"""
    async with app.services.db.read() as conn:
        rows = (await conn.execute(select(t.c.id, t.c.state, t.c.drop_reason, t.c.last_error))).all()
    return {r.id: (r.state, r.drop_reason, r.last_error) for r in rows}


async def make_user(app: App, user_id: int, locale: str = "en", zone: str | None = None) -> None:
    await app.services.users.touch(Contact(user_id, f"U{user_id}", None, locale))
    if zone is not None:
        await app.services.settings.set_time_zone(user_id, zone)


async def push(app: App, user_id: int, kind: str, n: int, *, due: datetime | None = None,
               key: str | None = None, expires: datetime | None = None, **payload: Any) -> None:
    now = app.clock.now()
    async with app.services.db.write() as conn:
        added = await enqueue(conn, user_id=user_id, kind=kind, payload={"n": n, "order": n, **payload},
                              dedupe_key=key or f"test:{user_id}:{kind}:{n}", now=now, due_at=due,
                              expires_at=expires)
    assert added
