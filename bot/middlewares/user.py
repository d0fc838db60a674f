"""The current user: created on first contact, refreshed when their name changed."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ChatType
from aiogram.types import Update

from bot.db.engine import bookkeeping
from bot.middlewares.base import Proceed, UpdateMiddleware, chat_of, sender
from bot.services.users import Contact, UserService


class UserMiddleware(UpdateMiddleware):
    def __init__(self, users: UserService) -> None:
        self.users = users

    async def on_update(self, update: Update, data: dict[str, Any], proceed: Proceed) -> Any:
        tg, chat = sender(data), chat_of(data)
        if chat is not None and chat.type != ChatType.PRIVATE:
            # a group or a channel: no account is made or touched there (a person who blocked the
            # bot and writes in a group has not come back); the groups router answers it
            return await proceed()
        if tg is not None and not tg.is_bot:
            # bookkeeping: the handler's own write records the update id (bot/db/engine.py)
            with bookkeeping():
                user, created = await self.users.touch(
                    Contact(tg.id, tg.first_name or "", tg.username, tg.language_code)
                )
            data["user"] = user
            data["user_created"] = created
        return await proceed()
