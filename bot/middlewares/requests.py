"""Replies retried: a request middleware on the Bot's session (aiogram's ``BaseRequestMiddleware``).

A reply comes after its change was committed; if Telegram answers 429, 5xx or the request times
out, the change is done and the user sees nothing. So a reply is tried again:

- on ``TelegramRetryAfter`` after its ``retry_after`` (nothing was sent; pushes pause too);
- on ``TelegramServerError`` and ``TelegramNetworkError`` (timeouts included) with backoff
  (0.5 s, 1 s, 2 s …), a few times;
- within ``max_wait`` seconds of pauses in all: the handler holds the user's lock meanwhile, and
  Telegram drops a callback answer after about 15 s.

Which calls. Edits, callback answers, deletions and chat actions do no harm when repeated (a
repeated edit is "message is not modified", which we treat as success; a repeated delete is "not
found"): they get every try. A *send* is not idempotent — the Bot API has no idempotency key — and
after a timeout or a 5xx Telegram may have delivered it already, so a send gets at most
``ambiguous_sends`` (1) retry after such an error: at worst the user sees one screen twice (a
reply is a screen; the change was committed once before it), against seeing nothing. A send that
surely did not leave (429, a connection that was never made) gets every try.

What it leaves alone: the outbox's delivery (``outbox_send()`` marks its calls: it has its own
retries, backoff and rate limit), long polling's ``getUpdates`` (aiogram backs off itself), and
any method not listed below. Replies are counted in the shared ``SendBudget``, so the delivery
leaves them room in Telegram's ~30 messages a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    DeleteMessage,
    DeleteMessages,
    EditMessageCaption,
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageText,
    ForwardMessage,
    Response,
    SendChatAction,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiohttp import ClientConnectorError

from bot.services.backoff import doubling
from bot.services.ratelimit import SendBudget, SharedBudget

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]

# may be repeated without harm
IDEMPOTENT: tuple[type, ...] = (
    EditMessageText, EditMessageReplyMarkup, EditMessageCaption, EditMessageMedia,
    AnswerCallbackQuery, DeleteMessage, DeleteMessages, SendChatAction,
)
# a repeat after an ambiguous failure may show the message twice
SENDS: tuple[type, ...] = (SendMessage, SendPhoto, SendMediaGroup, SendDocument, CopyMessage, ForwardMessage)
# what Telegram counts against the bot's ~30 messages a second
COUNTED: tuple[type, ...] = (*SENDS, EditMessageText, EditMessageReplyMarkup, EditMessageCaption, EditMessageMedia)

_outbox_send: ContextVar[bool] = ContextVar("kabinet_outbox_send", default=False)


@contextmanager
def outbox_send() -> Iterator[None]:
    """The calls inside are the outbox's delivery: its own retries and rate limit apply."""
    token = _outbox_send.set(True)
    try:
        yield
    finally:
        _outbox_send.reset(token)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # tries in all (the first one included)
    ambiguous_sends: int = 1  # retries of a send after an error that may have delivered it
    backoff: float = 0.5  # seconds before the first retry after a 5xx or a network error, doubling
    max_backoff: float = 4.0
    max_wait: float = 12.0  # seconds of pauses in all for one call


def _surely_unsent(exc: BaseException) -> bool:
    """Telegram did not take the request: a 429, or a connection that was never made."""
    return isinstance(exc, TelegramRetryAfter) or isinstance(exc.__cause__, ClientConnectorError)


class ReplyRetries(BaseRequestMiddleware):
    def __init__(self, *, budget: SendBudget | SharedBudget | None = None, sleep: Sleep = asyncio.sleep,
                 policy: RetryPolicy | None = None) -> None:
        self.budget = budget
        self.sleep = sleep
        self.policy = policy or RetryPolicy()
        self.retried = 0  # retries made (for the logs and the tests)

    async def __call__(self, make_request: NextRequestMiddlewareType[Any], bot: Bot,
                       method: TelegramMethod[Any]) -> Response[Any]:
        if _outbox_send.get() or not isinstance(method, IDEMPOTENT + SENDS):
            return await make_request(bot, method)
        policy = self.policy
        send = isinstance(method, SENDS)
        counted = self.budget is not None and isinstance(method, COUNTED)
        attempt, ambiguous, waited = 1, 0, 0.0
        while True:
            if counted:
                assert self.budget is not None
                await self.budget.reply()
            try:
                return await make_request(bot, method)
            except (TelegramRetryAfter, TelegramServerError, TelegramNetworkError) as exc:
                if isinstance(exc, TelegramRetryAfter):
                    delay = float(exc.retry_after)
                    if self.budget is not None:
                        await self.budget.pause_all(delay)  # Telegram is counting: pushes wait too
                else:
                    delay = doubling(timedelta(seconds=policy.backoff), timedelta(seconds=policy.max_backoff),
                                     attempt - 1).total_seconds()
                if send and not _surely_unsent(exc):
                    ambiguous += 1
                    if ambiguous > policy.ambiguous_sends:
                        raise
                if attempt >= policy.attempts or waited + delay > policy.max_wait:
                    raise
                log.warning("%s failed (%s); try %d in %.1fs", type(method).__name__,
                            type(exc).__name__, attempt + 1, delay)
                await self.sleep(delay)
                waited += delay
                attempt += 1
                self.retried += 1


def install(session: BaseSession, middleware: ReplyRetries) -> ReplyRetries:
    """Register on the session, replacing one registered before (a session kept across an
    in-process restart, as in the tests)."""
    for old in [m for m in session.middleware if isinstance(m, ReplyRetries)]:
        session.middleware.unregister(old)
    session.middleware(middleware)
    return middleware


__all__ = ["ReplyRetries", "RetryPolicy", "install", "outbox_send"]
