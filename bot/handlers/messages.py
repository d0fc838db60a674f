"""The message centre: every notification received, newest first; opening one shows it again
with its button to the object."""

from __future__ import annotations

from aiogram import F
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery

from bot.db.users import UserRow
from bot.handlers.answers import refusals
from bot.handlers.common import show
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb
from bot.keyboards.messages import MessagesAction, MessagesCb
from bot.services.errors import N_, DomainError
from bot.services.messages import MessageService
from bot.services.relay.conversations import RelayService
from bot.views import messages as views
from bot.views.common import Fmt

router = Handlers("messages", N_("🔔 Messages"), order=80)


async def message_refused(query: CallbackQuery, error: DomainError, callback_data: CallbackData | None, user: UserRow,
                          messages: MessageService, f: Fmt) -> None:
    """A message that is gone (its order deleted for good, a forged id): the inbox, with why."""
    page = callback_data.page if isinstance(callback_data, MessagesCb) else 0
    await show(query, views.inbox_screen(await messages.page(user.id, page), f), f.error(error), alert=True)


refusals(router.callback_query, message_refused)


@router.callback_query(MenuCb.filter(F.section == "messages"))
@router.callback_query(MessagesCb.filter(F.action == MessagesAction.page))
async def open_page(query: CallbackQuery, callback_data: MenuCb | MessagesCb, user: UserRow,
                    messages: MessageService, relay: RelayService, f: Fmt) -> None:
    page = callback_data.page if isinstance(callback_data, MessagesCb) else 0
    await show(query, views.inbox_screen(await messages.page(user.id, page), f,
                                         conversations_unread=await relay.unread(user.id)))


@router.callback_query(MessagesCb.filter(F.action == MessagesAction.open))
async def open_one(query: CallbackQuery, callback_data: MessagesCb, user: UserRow, messages: MessageService,
                   f: Fmt) -> None:
    row = await messages.open(user.id, callback_data.id)
    await show(query, views.message_screen(row, f, page=callback_data.page))


@router.callback_query(MessagesCb.filter(F.action == MessagesAction.read_all))
async def read_all(query: CallbackQuery, callback_data: MessagesCb, user: UserRow, messages: MessageService,
                   relay: RelayService, f: Fmt) -> None:
    await messages.mark_all_read(user.id)
    await show(query, views.inbox_screen(await messages.page(user.id, callback_data.page), f,
                                         conversations_unread=await relay.unread(user.id)), f._("All marked as read"))
