"""What the outer middlewares on updates share: aiogram's middleware call, the update, who sent it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
Proceed = Callable[[], Awaitable[Any]]


class UpdateMiddleware(BaseMiddleware):
    """An outer middleware on the dispatcher's updates. A subclass writes
    `on_update(update, data, proceed)`: `await proceed()` hands the update on with `data` as it is
    by then; returning without it drops the update (no handler sees it)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):  # registered on updates only; anything else passes
            return await handler(event, data)
        return await self.on_update(event, data, lambda: handler(event, data))

    async def on_update(self, update: Update, data: dict[str, Any], proceed: Proceed) -> Any:
        raise NotImplementedError


def sender(data: dict[str, Any]) -> TgUser | None:
    """Who sent the update (aiogram's `event_from_user`), if anyone."""
    return data.get("event_from_user")


def chat_of(data: dict[str, Any]) -> Chat | None:
    """The chat the update happened in (aiogram's `event_chat`), if any."""
    return data.get("event_chat")
