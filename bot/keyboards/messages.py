from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id, Page


class MessagesAction(str, Enum):
    page = "p"
    open = "o"
    read_all = "r"


class MessagesCb(CallbackData, prefix="msg"):
    action: MessagesAction
    id: Id = 0
    page: Page = 0
