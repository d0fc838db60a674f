from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData


class MessagesAction(str, Enum):
    page = "p"
    open = "o"
    read_all = "r"


class MessagesCb(CallbackData, prefix="msg"):
    action: MessagesAction
    id: int = 0
    page: int = 0
