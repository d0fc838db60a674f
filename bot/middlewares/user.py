"""The current user: created on first contact, refreshed when their name changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import Chat, TelegramObject
from aiogram.types import User as TgUser

from bot.db.engine import bookkeeping
from bot.services.users import Contact, UserService


class UserMiddleware(BaseMiddleware):
    def __init__(self, users: UserService) -> None:
        self.users = users

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg: TgUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if chat is not None and chat.type != ChatType.PRIVATE:
            # a group or a channel: no account is made or touched there (a person who blocked the
            # bot and writes in a group has not come back); the groups router answers it
            return await handler(event, data)
        if tg is not None and not tg.is_bot:
            # bookkeeping: the handler's own write records the update id (bot/db/engine.py)
            with bookkeeping():
                user, created = await self.users.touch(
                    Contact(tg.id, tg.first_name or "", tg.username, tg.language_code)
                )
            data["user"] = user
            data["user_created"] = created
        return await handler(event, data)
