"""The error handler: log with the update id, tell the user in their language, keep their state."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from bot.db.users import UserRow
from bot.handlers.routing import Handlers
from bot.views import menu as views
from bot.views.common import Fmt

log = logging.getLogger(__name__)
router = Handlers("errors")


@router.errors()
async def on_error(event: ErrorEvent, i18n: I18n, **data: Any) -> bool:
    update = event.update
    log.error(
        "update %s failed: %s", update.update_id, type(event.exception).__name__,
        exc_info=event.exception,
    )
    user: UserRow | None = data.get("user")
    f: Fmt = data.get("f") or Fmt(
        i18n,
        user.locale if user else i18n.default_locale,
        user.time_zone if user else "UTC",
    )
    text = views.something_went_wrong(f)
    # the middleware's i18n context has been left by now: enter one for anything that reads it
    with i18n.context(), i18n.use_locale(f.locale):
        with suppress(TelegramAPIError):
            if update.callback_query is not None:
                with suppress(TelegramAPIError):
                    await update.callback_query.answer(text, show_alert=True)
                return True
            message = update.message or update.edited_message
            if message is not None:
                await message.answer(text)
    return True
