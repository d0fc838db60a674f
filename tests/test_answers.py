"""One place for refusals (bot/handlers/answers.py): a DomainError from a handler is answered by its
own section's answer, called like a handler; nothing else is caught, and no other section answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import Chat, ErrorEvent, Message, Update, User

from bot.fakebot import FakeSession
from bot.handlers.answers import answered_by, refusals
from bot.services.errors import DomainError, NotFound

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # the suite's clock (tests/conftest.py)


def _update(n: int, text: str) -> Update:
    message = Message(message_id=n, date=NOW, chat=Chat(id=1, type="private"),
                      from_user=User(id=1, is_bot=False, first_name="A"), text=text)
    return Update(update_id=n, message=message)


async def test_a_refusal_is_answered_by_its_own_section_with_the_handlers_data() -> None:
    seen: list[Any] = []
    shop, other = Router(name="shop"), Router(name="other")

    async def shop_refused(message: Message, error: DomainError, word: str, colour: str) -> None:
        seen.append(("shop", type(error).__name__, word, colour))

    async def own_refused(message: Message, error: DomainError) -> None:
        seen.append(("own", error.msgid))

    def first_word(message: Message) -> dict[str, Any]:
        return {"word": (message.text or "").split()[0]}

    refusals(shop.message, shop_refused)

    @shop.message(F.text.startswith("shop"), first_word)
    async def shop_handler(message: Message) -> None:
        if message.text == "shop fine":
            seen.append("fine")
            return
        if message.text == "shop bug":
            raise ValueError("a bug, not a refusal")
        raise NotFound()

    @shop.message(F.text == "own", flags=answered_by(own_refused))
    async def own_handler(message: Message) -> None:
        raise DomainError("own reason")

    @other.message(F.text == "other")
    async def other_handler(message: Message) -> None:
        raise DomainError()

    dp = Dispatcher(colour="blue")
    dp.include_routers(shop, other)

    @dp.errors()
    async def on_error(event: ErrorEvent) -> bool:
        seen.append(("error handler", type(event.exception).__name__))
        return True

    bot = Bot("1:test", session=FakeSession())
    try:
        for n, text in enumerate(["shop fine", "shop x", "own", "shop bug", "other"]):
            await dp.feed_update(bot, _update(n, text))
    finally:
        for router in (shop, other):
            router._parent_router = None
    assert seen == [
        "fine",
        ("shop", "NotFound", "shop", "blue"),  # the filter's result and the dispatcher's data reach it
        ("own", "own reason"),  # a handler's own answer wins over the section's
        ("error handler", "ValueError"),  # a bug is not a refusal
        ("error handler", "DomainError"),  # another section's refusal is not this section's business
    ]


def test_a_router_answers_refusals_once() -> None:
    router = Router()

    async def answer(message: Message, error: DomainError) -> None: ...

    refusals(router.message, answer)
    refusals(router.callback_query, answer)  # each kind of update has its own answer
    with pytest.raises(RuntimeError):
        refusals(router.message, answer)
