"""The i18n context for one update, from the user row (not FSM data, which state.clear() wipes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.services.users import locale_from_language_code
from bot.views.common import Fmt


class UserI18nMiddleware(I18nMiddleware):
    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user = data.get("user")
        return user.locale if user is not None else self.i18n.default_locale

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("user")
        if user is not None:
            locale = user.locale
        else:  # no account (a group, a channel): the writer's language, as a new user would get
            tg = data.get("event_from_user")
            locale = locale_from_language_code(tg.language_code if tg else None, self.i18n.default_locale)
        data["f"] = Fmt(self.i18n, locale, user.time_zone if user is not None else "UTC")
        data["i18n"] = self.i18n
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await handler(event, data)
