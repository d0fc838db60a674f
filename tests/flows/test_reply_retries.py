"""Replies that hit a 429, a 5xx or a timeout are tried again (`bot/middlewares/requests.py`): the
change was committed, so the user must see it. The fake Telegram fails the first tries; the pauses
between tries go to `app.sleep` (recorded, the fake clock moves), never a real sleep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, TelegramMethod
from aiohttp import ClientConnectorError
from aiohttp.client_reqrep import ConnectionKey

from bot.fakebot import Player
from bot.services.ratelimit import SendBudget
from tests.conftest import App
from tests.flows.test_cards import open_wallet
from tests.pushkit import demo_kinds, drain, make_user, push, sim_delivery

Fail = Callable[[TelegramMethod[Any]], Exception]


def too_many(seconds: int) -> Fail:
    return lambda m: TelegramRetryAfter(method=m, message=f"Too Many Requests: retry after {seconds}",
                                        retry_after=seconds)


def bad_gateway(m: TelegramMethod[Any]) -> Exception:
    return TelegramServerError(method=m, message="Bad Gateway")


def timeout(m: TelegramMethod[Any]) -> Exception:
    return TelegramNetworkError(method=m, message="Request timeout error")


def refused(m: TelegramMethod[Any]) -> Exception:
    """A connection that was never made: Telegram cannot have taken the request."""
    key = ConnectionKey("api.telegram.org", 443, True, None, None, None, None)
    error = TelegramNetworkError(method=m, message="ClientConnectorError")
    error.__cause__ = ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))
    return error


def fail_first(app: App, kind: type, *failures: Fail) -> list[TelegramMethod[Any]]:
    """The next calls of `kind` fail with `failures`, in order; then Telegram answers again.
    Returns the list of the calls that reached the fake Telegram (tries included)."""
    pending = list(failures)
    tries: list[TelegramMethod[Any]] = []

    def respond(bot: Bot, method: TelegramMethod[Any]) -> Any:
        tries.append(method)
        if pending:
            raise pending.pop(0)(method)
        return app.session.answer(bot, method)

    app.session.responders[kind] = respond
    return tries


async def test_a_reply_that_hits_429_waits_and_is_sent(app: App, alex: Player) -> None:
    tries = fail_first(app, SendMessage, too_many(3))
    await alex.send("/start")
    assert "Hello, Alex!" in alex.last_text
    assert len(tries) == 2 and app.slept == [3.0]
    assert await app.services.budget.paused_till() == app.clock.now()  # pushes waited as long


async def test_an_edit_after_5xx_and_a_timeout_is_retried_with_backoff(app: App, alex: Player) -> None:
    await alex.send("/start")
    tries = fail_first(app, EditMessageText, bad_gateway, timeout, bad_gateway)
    await alex.press("❓ Help")
    assert "<b>Help</b>" in alex.last_text and alex.last.edit_date is not None  # edited in place
    assert len(tries) == 4 and app.slept == [0.5, 1.0, 2.0]


async def test_a_callback_answer_is_retried(app: App, alex: Player) -> None:
    await alex.send("/settings")
    tries = fail_first(app, AnswerCallbackQuery, bad_gateway)
    await alex.press("🌐 Language")
    await alex.press("Русский")
    assert alex.alerts()[-1] == "Язык: Русский"
    assert len(tries) == 3 and app.slept == [0.5]  # the first answer twice, the second once


async def test_the_card_is_added_and_shown_though_the_cvc_reply_hit_5xx(app: App, alex: Player) -> None:
    """The issue's case: at the CVC step the reply and the error notice both failed; the card was
    saved and the user saw nothing."""
    await open_wallet(alex)
    await alex.press("➕ Add a card")
    for text in ("4242 4242 4242 4242", "12/29", "IVAN PETROV"):
        await alex.send(text)
    fail_first(app, SendMessage, bad_gateway)
    await alex.send("123")
    assert alex.last_text.startswith("✅ Card added: Visa •••• 4242.")
    assert app.slept == [0.5]


async def test_a_send_is_repeated_once_at_most_after_an_error_that_may_have_delivered_it(
    app: App, alex: Player
) -> None:
    """A timeout or a 5xx on a send: Telegram may have shown it already (there is no idempotency
    key). One retry — at worst one screen twice — then the error handler's notice."""
    await alex.send("/start")
    tries = fail_first(app, SendMessage, timeout, bad_gateway)
    app.expected_errors = 1
    await alex.send("/help")
    assert len(tries) == 3  # the reply, its one retry, then the error notice
    assert alex.last_text.startswith("Something went wrong")
    assert app.slept == [0.5]


async def test_a_send_that_surely_did_not_leave_gets_every_try(app: App, alex: Player) -> None:
    tries = fail_first(app, SendMessage, refused, refused, too_many(1))
    await alex.send("/start")
    assert "Hello, Alex!" in alex.last_text
    assert len(tries) == 4 and app.slept == [0.5, 1.0, 1.0]


async def test_tries_are_bounded(app: App, alex: Player) -> None:
    await alex.send("/start")
    tries = fail_first(app, EditMessageText, *[bad_gateway] * 10)
    app.expected_errors = 1
    await alex.press("❓ Help")
    assert len(tries) == 4 and app.slept == [0.5, 1.0, 2.0]
    tries.clear()
    app.slept.clear()
    fail_first(app, SendMessage, too_many(60))  # longer than a user waits with their lock held
    app.expected_errors = 2
    await alex.send("/menu")
    assert app.slept == []


async def test_the_outbox_delivery_keeps_its_own_retries(app: App, alex: Player) -> None:
    """A push that hits a 5xx is not retried by the reply middleware: delivery backs off itself."""
    await make_user(app, alex.user.id)
    with demo_kinds():
        await push(app, alex.user.id, "t_order", 1)
        tries = fail_first(app, SendMessage, bad_gateway)
        report = await sim_delivery(app)(app.clock.now())
        assert len(tries) == 1 and app.slept == [] and report.retrying == 1
        await drain(app, sim_delivery(app))
    assert len(tries) == 2


def recorder(app: App) -> list[datetime]:
    """When each push reached Telegram (on the fake clock)."""
    sent_at: list[datetime] = []

    def respond(bot: Bot, method: TelegramMethod[Any]) -> Any:
        sent_at.append(app.clock.now())
        return app.session.answer(bot, method)

    app.session.responders[SendMessage] = respond
    return sent_at


@pytest.mark.parametrize(("replies", "pushes"), [(0, 25), (20, 10), (30, 0)])
async def test_replies_take_precedence_over_pushes(app: App, replies: int, pushes: int) -> None:
    """Telegram allows ~30 messages a second overall. Pushes take at most 25 of them, and fewer
    when replies are busy: in any second, pushes and replies together stay within 30."""
    budget = SendBudget(app.clock.now)
    with demo_kinds():
        for user in range(1, 41):
            await make_user(app, user)
            await push(app, user, "t_order", user)
        start = app.clock.now()
        for _ in range(replies):
            budget.record()
        sent_at = recorder(app)
        await drain(app, sim_delivery(app, budget=budget, concurrency=1))
    first_second = [t for t in sent_at if t < start + timedelta(seconds=1)]
    assert len(first_second) == pushes
    assert len(sent_at) == 40  # nothing lost: the rest went in the next seconds


async def test_a_429_on_a_reply_pauses_the_pushes(app: App) -> None:
    await make_user(app, 3003)
    with demo_kinds():
        await push(app, 3003, "t_order", 1)
        start = app.clock.now()
        await app.services.budget.pause_all(5)  # Telegram told a reply to wait 5 s (as in the first test)
        sent_at = recorder(app)
        await drain(app, sim_delivery(app, budget=app.services.budget))
    assert sent_at and sent_at[0] >= start + timedelta(seconds=5)
