"""The i18n context for one update, from the user row (not FSM data, which state.clear() wipes)."""

from __future__ import annotations

from typing import Any

from aiogram.types import Update
from aiogram.utils.i18n import I18n

from bot.middlewares.base import Proceed, UpdateMiddleware, sender
from bot.services.users import locale_from_language_code
from bot.views.common import Fmt


class UserI18nMiddleware(UpdateMiddleware):
    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    async def on_update(self, update: Update, data: dict[str, Any], proceed: Proceed) -> Any:
        user = data.get("user")
        if user is not None:
            locale = user.locale
        else:  # no account (a group, a channel): the writer's language, as a new user would get
            tg = sender(data)
            locale = locale_from_language_code(tg.language_code if tg else None, self.i18n.default_locale)
        data["f"] = Fmt(self.i18n, locale, user.time_zone if user is not None else "UTC")
        data["i18n"] = self.i18n
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await proceed()
