"""Callbacks of the Privilege centre."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Page


class LoyaltyAction(str, Enum):
    home = "h"
    history = "hi"
    noop = "n"


class LoyaltyCb(CallbackData, prefix="ly"):
    action: LoyaltyAction
    page: Page = 0
