"""The last router: whatever no section handled gets a short, polite answer and never an error."""

from __future__ import annotations

import logging

from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.handlers.common import reply
from bot.handlers.routing import Handlers
from bot.keyboards.common import out_of_range
from bot.services.errors import NotFound
from bot.views import menu as views
from bot.views.common import Fmt

log = logging.getLogger(__name__)
router = Handlers("fallback")


@router.message(StateFilter(None))
async def outside_flow(message: Message, f: Fmt) -> None:
    await reply(message, views.outside_flow_hint(f))


@router.message()
async def in_flow_unexpected(message: Message, f: Fmt) -> None:
    """A flow's own fallbacks explain each step; this one catches whatever they did not."""
    await message.answer(views.unsupported_in_flow(f))


@router.callback_query()
async def stale_button(query: CallbackQuery, f: Fmt) -> None:
    if out_of_range(query.data or ""):
        # a forged id or page (or a button of an older layout): bounded where it is unpacked
        # (keyboards/common.py), so no handler saw it; nothing worth more than a DEBUG line
        log.debug("press %s: callback data out of range", query.id)
        await query.answer(f.error(NotFound()), show_alert=True)
        return
    await query.answer(views.stale_button(f), show_alert=True)
