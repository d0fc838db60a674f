"""The message centre: every notification received, newest first; opening one shows it again
with its button to the object."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery

from bot import menu as registry
from bot.db.users import UserRow
from bot.handlers.common import send_or_edit
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb
from bot.keyboards.messages import MessagesAction, MessagesCb
from bot.services.errors import N_, NotFound
from bot.services.messages import MessageService
from bot.views import messages as views
from bot.views.common import Fmt

router = Handlers("messages")
registry.register(registry.MenuEntry("messages", N_("🔔 Messages"), order=80))


@router.callback_query(MenuCb.filter(F.section == "messages"))
async def open_messages(query: CallbackQuery, user: UserRow, messages: MessageService, f: Fmt) -> None:
    await send_or_edit(query, views.inbox_screen(await messages.page(user.id), f))
    await query.answer()


@router.callback_query(MessagesCb.filter(F.action == MessagesAction.page))
async def page(query: CallbackQuery, callback_data: MessagesCb, user: UserRow, messages: MessageService,
               f: Fmt) -> None:
    await send_or_edit(query, views.inbox_screen(await messages.page(user.id, callback_data.page), f))
    await query.answer()


@router.callback_query(MessagesCb.filter(F.action == MessagesAction.open))
async def open_one(query: CallbackQuery, callback_data: MessagesCb, user: UserRow, messages: MessageService,
                   f: Fmt) -> None:
    try:
        row = await messages.open(user.id, callback_data.id)
    except NotFound as exc:
        await query.answer(f.error(exc), show_alert=True)
        await send_or_edit(query, views.inbox_screen(await messages.page(user.id, callback_data.page), f))
        return
    await send_or_edit(query, views.message_screen(row, f, page=callback_data.page))
    await query.answer()


@router.callback_query(MessagesCb.filter(F.action == MessagesAction.read_all))
async def read_all(query: CallbackQuery, callback_data: MessagesCb, user: UserRow, messages: MessageService,
                   f: Fmt) -> None:
    await messages.mark_all_read(user.id)
    await send_or_edit(query, views.inbox_screen(await messages.page(user.id, callback_data.page), f))
    await query.answer(f._("All marked as read"))
