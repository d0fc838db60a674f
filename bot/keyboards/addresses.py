"""Callbacks of the address book (adr) and of the add / edit form (adf). Ids are ints, actions
enums, and a region is sent as its index in the library's list (never its name), so packed data
stays far below 64 bytes."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id, Index


class AddressAction(str, Enum):
    list = "l"
    open = "o"
    add = "a"
    set_default = "d"
    edit = "e"
    delete = "x"
    delete_ok = "y"
    delete_to_add = "X"  # from "the book is full": delete one…
    delete_to_add_ok = "Y"  # …and the new address's form opens


class AddressCb(CallbackData, prefix="adr"):
    action: AddressAction
    id: Id = 0


class FormAction(str, Enum):
    keep = "k"  # value: the field whose current value is kept
    skip = "s"  # value: the optional field left empty
    country = "c"  # value: an ISO code
    region = "r"  # value: the country, n: the region's index in the library's list
    page = "p"  # value: the page of the region list
    edit = "e"  # value: the field to change from the summary
    save = "v"
    ask = "q"  # value: the field whose question is shown again (Back from offered choices)


class AddressFormCb(CallbackData, prefix="adf"):
    action: FormAction
    value: str = ""
    n: Index = 0
