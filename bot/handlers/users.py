"""Reachability: a user who blocks the bot is unreachable until they come back."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from bot.services.users import UserService

router = Router(name="users")


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED))
async def blocked(event: ChatMemberUpdated, users: UserService) -> None:
    await users.mark_unreachable(event.from_user.id)


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=MEMBER))
async def unblocked(event: ChatMemberUpdated) -> None:
    # The user middleware already marked them reachable on this very update, which brought back
    # their pushes that are still relevant (services/reminders.py: on_reachable).
    return None
