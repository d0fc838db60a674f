"""The card-number guard: card numbers never enter storage, a reply or a log by the side door.

One outer middleware on updates (registered once, after the user and i18n middlewares) looks at
every text and caption the bot receives — new and edited messages — in any state except the card
flow's number step, where a number is what is asked for. When it holds a card number (the rule is
`bot.services.card_numbers.contains_card_number`), no handler sees the message: it is deleted at
once and the user told why; inside a flow the current step asks again, with what was entered so
far and the state untouched; outside a flow the user is pointed to Bank cards.

A flow says how its steps ask again with `@asks_again(TheFlow)` next to its handlers, and the
card flow marks its number step with `takes_card_numbers(...)`; tests check that every state of
every flow has one or the other. A step that asks for a parcel's track number marks itself with
`takes_track_numbers(...)`: there a message that is just 14 digits — Russian Post's domestic track
number, which passes the Luhn check one time in ten — is let through, unless it begins as a Diners
Club card of 14 digits does (300–305, 3095, 36, 38, 39): such a number stays a card number, and a
track number of a post office whose postcode begins so is asked again (privacy first).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiogram import Dispatcher
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, Update

from bot.middlewares.base import Proceed, UpdateMiddleware
from bot.services.card_numbers import contains_card_number
from bot.views import cards as card_views
from bot.views.common import Fmt

log = logging.getLogger(__name__)

Fn = TypeVar("Fn", bound=Callable[..., Awaitable[Any]])

_reaskers: dict[str, CallableObject] = {}  # state name → how that step asks again
_takes_numbers: set[str] = set()  # the steps where a card number is the expected answer
_takes_tracks: set[str] = set()  # the steps where a track number is: 14 digits alone are one
TRACK_DIGITS = 14  # Russian Post's domestic track numbers: the sending office's postcode, then 8 digits


def _names(states: tuple[State | type[StatesGroup], ...]) -> list[str]:
    names: list[str] = []
    for item in states:
        if isinstance(item, State):
            names.append(str(item.state))
        else:
            names += list(item.__all_states_names__)
    return names


def asks_again(*states: State | type[StatesGroup]) -> Callable[[Fn], Fn]:
    """Register how these steps ask again after the guard removed a card number. The function is
    called like a handler (it takes what it names: message, state, raw_state, db, f, services…)
    and gets `warning`, the sentence saying what happened, to show with the step."""

    def register(fn: Fn) -> Fn:
        callable_ = CallableObject(fn)
        for name in _names(states):
            _reaskers[name] = callable_
        return fn

    return register


# Telegram sends only the update types a bot asks for (`allowed_updates`), and aiogram asks for the
# ones that have a handler (`Dispatcher.resolve_used_update_types`). An edited message has none: the
# guard, an outer middleware, is what reads it. So it is asked for by name, or a message edited to
# hold a card number would never reach the bot to be deleted.
WATCHED_UPDATES = frozenset({"edited_message"})


def allowed_updates(dp: Dispatcher) -> list[str]:
    """The update types to ask Telegram for (polling and the webhook): the handled ones, and edits."""
    return sorted(set(dp.resolve_used_update_types()) | WATCHED_UPDATES)


def takes_card_numbers(*states: State | type[StatesGroup]) -> None:
    """These steps expect a card number: the guard lets it through to their handlers."""
    _takes_numbers.update(_names(states))


def takes_track_numbers(*states: State | type[StatesGroup]) -> None:
    """These steps expect a parcel's track number: 14 digits alone are one, not a card number."""
    _takes_tracks.update(_names(states))


DINERS_14 = ("300", "301", "302", "303", "304", "305", "3095", "36", "38", "39")  # the 14-digit cards' prefixes


def _a_track_number(text: str) -> bool:
    digits = "".join(text.split())
    return (len(digits) == TRACK_DIGITS and digits.isascii() and digits.isdigit()
            and not digits.startswith(DINERS_14))


def guarded_states() -> tuple[frozenset[str], frozenset[str]]:
    """(states that ask again, states that take card numbers), for the tests."""
    return frozenset(_reaskers), frozenset(_takes_numbers)


def _message_of(update: Update) -> tuple[Message | None, bool]:
    """The message an update carries, and whether it is a new one (not an edit)."""
    if update.message is not None:
        return update.message, True
    if update.business_message is not None:
        return update.business_message, True
    return update.edited_message or update.edited_business_message, False


class CardNumberGuard(UpdateMiddleware):
    async def on_update(self, update: Update, data: dict[str, Any], proceed: Proceed) -> Any:
        message, new = _message_of(update)
        if message is None or not contains_card_number(message.text or message.caption or ""):
            return await proceed()
        raw_state = data.get("raw_state")
        if new and (raw_state in _takes_numbers
                    or (raw_state in _takes_tracks and _a_track_number(message.text or message.caption or ""))):
            return await proceed()
        deleted = await delete_message(message)
        f: Fmt = data["f"]
        reask = _reaskers.get(raw_state or "") if new else None
        if reask is None:
            await message.answer(**card_views.card_number_outside_flow(f, deleted=deleted).as_kwargs())
        else:
            warning = card_views.removed_card_number_warning(f) if deleted else card_views.not_deleted_warning(f)
            await reask.call(message, **{**data, "warning": warning, "deleted": deleted})
        return None  # no handler sees the message


async def delete_message(message: Message) -> bool:
    """Delete a message with card details at once (the guard's, and the card flow's number and CVC).
    False when Telegram refused (then the user is asked to delete it)."""
    try:
        await message.delete()
    except TelegramAPIError as exc:
        log.info("could not delete a message with card details (%s)", type(exc).__name__)
        return False
    return True
