"""Reachability: a user who blocks the bot is unreachable until they come back."""

from __future__ import annotations

from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from bot.handlers.routing import Handlers
from bot.services.users import UserService

router = Handlers("users")


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED))
async def blocked(event: ChatMemberUpdated, users: UserService) -> None:
    await users.mark_unreachable(event.from_user.id)


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=MEMBER))
async def unblocked(event: ChatMemberUpdated) -> None:
    # The user middleware already marked them reachable on this very update, which brought back
    # their pushes that are still relevant (services/reminders.py: on_reachable).
    return None
