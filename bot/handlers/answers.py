"""One place for refusals: a `DomainError` a handler raises is answered by its section.

A handler does the happy path only — call the service, show the screen — and lets a refusal
(`DomainError`: a stale or forged id, "already done", wrong input) propagate. The section says once
how a refusal looks on each kind of update:

    refusals(router.callback_query, order_refused)   # every button handler of this router
    refusals(router.message, relay_refused)          # every message handler of this router

and a handler whose refusal looks different names its own answer:

    @router.message(TheFlow.step, F.text, flags=answered_by(step_refused))

An answer is called like a handler: the update's event first, the error as `error`, then whatever
it names of what the handler could have taken (`callback_data`, `state`, `f`, `user`, services …).
It runs inside the update's middlewares (i18n context, user, unit-of-work scope), so `f` speaks
the user's language, and it leaves the FSM state alone unless it changes it itself.

Why an inner middleware and not `router.errors()`: aiogram propagates the error event from the
dispatcher's root through every router in order, so an `errors` handler on a section router is not
scoped to the router that raised (the first router with an `errors` handler would answer every
section's refusals), and by then the handler's data (its `callback_data`, the filter results) is
gone. An inner middleware of a router's observer wraps exactly that router's handlers (and its
sub-routers'), after their filters, with the handler's data in hand. Anything that is not a
`DomainError` still reaches the dispatcher's error handler (`handlers/errors.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import CallableObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.services.errors import DomainError
from bot.views.common import Fmt

Answer = Callable[..., Awaitable[Any]]
"""`async def answer(event, error: DomainError, **what_it_names) -> None`."""

FLAG = "refusal"
"""The handler flag naming the answer of that one handler (`answered_by`)."""

_callables: dict[Answer, CallableObject] = {}


def _callable(answer: Answer) -> CallableObject:
    found = _callables.get(answer)
    if found is None:
        found = _callables[answer] = CallableObject(answer)
    return found


async def answer_refusal(answer: Answer, event: TelegramObject, error: DomainError, data: dict[str, Any]) -> Any:
    """Call `answer` as the middleware does (for answers that delegate to another)."""
    return await _callable(answer).call(event, **{**data, "error": error})


class Refusals(BaseMiddleware):
    """Inner middleware: a `DomainError` from the handler is answered by the handler's own answer
    (`answered_by`) or else by the section's."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        _callable(answer)

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except DomainError as error:
            own = data.get("handler")
            answer = own.flags.get(FLAG) if isinstance(own, HandlerObject) else None
            return await answer_refusal(answer or self.answer, event, error, data)


def refusals(observer: TelegramEventObserver, answer: Answer) -> None:
    """Answer every `DomainError` of this observer's handlers (this router's and its sub-routers')
    with `answer`. Register once per router and observer, at import, next to the router."""
    if any(isinstance(m, Refusals) for m in observer.middleware):
        raise RuntimeError(f"{observer.router} already answers refusals of {observer.event_name}")
    observer.middleware(Refusals(answer))


def answered_by(answer: Answer, **flags: Any) -> dict[str, Any]:
    """Handler flags: this handler's refusals get `answer` instead of the section's."""
    return {**flags, FLAG: answer}


# -- answers many sections share --------------------------------------------------------------------
async def alert(query: CallbackQuery, error: DomainError, f: Fmt) -> None:
    """The reason in an alert; the screen stays as it is."""
    await query.answer(f.error(error), show_alert=True)


async def note(query: CallbackQuery, error: DomainError, f: Fmt) -> None:
    """The reason in a short notice at the top; the screen stays as it is."""
    await query.answer(f.error(error))


async def say(message: Message, error: DomainError, f: Fmt) -> None:
    """The reason as a reply."""
    await message.answer(f.error(error))
