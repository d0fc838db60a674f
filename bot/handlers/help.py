from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery

from bot.db.users import UserRow
from bot.handlers.common import show
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb
from bot.services.errors import N_
from bot.views import help as views
from bot.views.common import Fmt

router = Handlers("help", N_("❓ Help"), order=910)


@router.callback_query(MenuCb.filter(F.section == "help"))
async def open_help(query: CallbackQuery, user: UserRow, f: Fmt) -> None:
    await show(query, views.help_screen(f, seller=user.is_seller))
