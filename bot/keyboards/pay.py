"""Paying an order: choose a card, confirm the amount, or add a new card on the way. The list page
the order was opened from rides along (tab, page), so Back returns to it."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id, Page
from bot.keyboards.orders import Tab


class PayAction(str, Enum):
    choose = "c"  # the cards to pay with
    card = "k"  # a card chosen: confirm the amount
    confirm = "y"  # pay
    new = "n"  # a new card: save it for later?
    new_go = "g"  # start the add-card flow


class PayCb(CallbackData, prefix="py"):
    action: PayAction
    id: Id  # the order
    card: Id = 0
    save: bool = True
    tab: Tab = Tab.all
    page: Page = 0
