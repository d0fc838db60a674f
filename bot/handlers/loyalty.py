"""The Privilege centre: level, points, progress, privileges and the points history."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery

from bot.db.users import UserRow
from bot.handlers.common import show
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb
from bot.keyboards.loyalty import LoyaltyAction, LoyaltyCb
from bot.services.errors import N_
from bot.services.loyalty import LoyaltyService
from bot.views import loyalty as views
from bot.views.common import Fmt

router = Handlers("loyalty", N_("🏆 Privilege centre"), order=35)


@router.callback_query(MenuCb.filter(F.section == "loyalty"))
@router.callback_query(LoyaltyCb.filter(F.action == LoyaltyAction.home))
async def open_centre(query: CallbackQuery, loyalty: LoyaltyService, user: UserRow, f: Fmt) -> None:
    await show(query, views.centre(await loyalty.info(user.id), f))


@router.callback_query(LoyaltyCb.filter(F.action == LoyaltyAction.history))
async def open_history(query: CallbackQuery, callback_data: LoyaltyCb, loyalty: LoyaltyService, user: UserRow,
                       f: Fmt) -> None:
    await show(query, views.history(await loyalty.history(user.id, callback_data.page), f))


@router.callback_query(LoyaltyCb.filter(F.action == LoyaltyAction.noop))
async def noop(query: CallbackQuery) -> None:
    await query.answer()
