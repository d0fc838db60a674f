"""Conversations between buyers and sellers: one callback for the list, a conversation and its
actions. `side` says which side the user acts on (a seller may also be a buyer elsewhere); the
service checks the conversation id against the user on that side."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id, Page


class RelayAction(str, Enum):
    order = "m"  # "✉️ Message seller" on an order: id is the order's
    store = "s"  # "✉️ Message seller" on a product or store page, before any order: id is the store's
    list = "l"  # the conversations, a page
    open = "o"  # a conversation (its history, a page) — and write in it
    block = "b"
    unblock = "u"


class Side(str, Enum):
    buyer = "b"
    seller = "s"


class RelayCb(CallbackData, prefix="rl"):
    action: RelayAction
    id: Id = 0
    page: Page = 0
    side: Side = Side.buyer
