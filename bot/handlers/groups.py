"""Groups and channels (DESIGN.md §9, "Private chats only"). This router comes before every
section and takes every update from a chat that is not private: the sections never see one, so no
screen with someone's data can be posted or edited into a group. A group or channel is told once
that the bot works in private chats (with a link); a press on a button there gets a short notice
and nothing else; the bot being added to a group greets it the same way."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.filters import JOIN_TRANSITION, LEAVE_TRANSITION, ChatMemberUpdatedFilter
from aiogram.types import CallbackQuery, Chat, ChatMemberUpdated, Message, TelegramObject

from bot.handlers.routing import Handlers
from bot.services.groups import GroupService
from bot.views import groups as views
from bot.views.common import Fmt

log = logging.getLogger(__name__)
router = Handlers("groups")


def outside_private(event: TelegramObject, event_chat: Chat | None = None) -> bool:
    """Whether an update comes from anywhere but a private chat (a press on a message in an
    inline-mode or unknown chat counts as not private)."""
    return event_chat is None or event_chat.type != ChatType.PRIVATE


UPDATE_TYPES = ("message", "channel_post", "callback_query", "my_chat_member")
"""The update types this router guards; tests check the dispatcher uses no other."""
for update_type in UPDATE_TYPES:
    router.observers[update_type].filter(outside_private)


async def _tell_once(bot: Bot, chat: Chat, groups: GroupService, f: Fmt) -> None:
    if not await groups.tell_once(chat.id):
        return
    me = await bot.me()
    await bot.send_message(chat.id, **views.private_only(f, me.username or "").as_kwargs())


@router.message()
@router.channel_post()
async def in_group(message: Message, bot: Bot, groups: GroupService, f: Fmt) -> None:
    await _tell_once(bot, message.chat, groups, f)


@router.callback_query()
async def pressed_in_group(query: CallbackQuery, f: Fmt) -> None:
    log.debug("press %s outside a private chat: ignored", query.id)
    await query.answer(views.press_in_group(f), show_alert=True)


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=JOIN_TRANSITION))
async def added(event: ChatMemberUpdated, bot: Bot, groups: GroupService, f: Fmt) -> None:
    await _tell_once(bot, event.chat, groups, f)


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=LEAVE_TRANSITION))
async def removed(event: ChatMemberUpdated, groups: GroupService) -> None:
    # the chat is forgotten (added again, it is greeted again); the person who removed the bot
    # has not blocked it: their private chat is untouched
    await groups.forget(event.chat.id)


@router.my_chat_member()
async def other_change(event: ChatMemberUpdated) -> None:
    return None  # promoted, restricted …: nothing to say
