"""Callbacks of the Privilege centre."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData


class LoyaltyAction(str, Enum):
    home = "h"
    history = "hi"
    noop = "n"


class LoyaltyCb(CallbackData, prefix="ly"):
    action: LoyaltyAction
    page: int = 0
