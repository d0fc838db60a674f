from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id


class CardAction(str, Enum):
    wallet = "w"
    open = "o"
    add = "a"
    set_default = "d"
    replace = "r"
    delete = "x"
    delete_ok = "y"
    # inside the add-card flow
    keep = "k"  # keep what the gateway session already has and go on
    offer = "t"  # take the offered transliteration of the holder's name
    edit = "e"  # from the summary: enter one field again


class CardField(str, Enum):
    none = ""
    number = "n"
    expiry = "e"
    holder = "h"


class CardCb(CallbackData, prefix="cd"):
    action: CardAction
    id: Id = 0
    field: CardField = CardField.none
