"""Returns & disputes: the list and card, and the steps of opening a dispute."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id, Page


class DisputeAction(str, Enum):
    list = "l"
    noop = "n"
    open = "o"  # a dispute's card (id = dispute id)
    start = "s"  # open a dispute on an order (id = order id)
    accept = "a"  # accept the seller's answer: are you sure?
    accept_ok = "ay"
    escalate = "e"
    escalate_ok = "ey"
    photos = "ph"  # send the dispute's photos
    send_back = "sb"  # a return: the item was sent back, its track number step (id = dispute id)


class DisputeCb(CallbackData, prefix="dp"):
    action: DisputeAction
    id: Id = 0
    page: Page = 0


class DraftAction(str, Enum):
    reason = "r"
    outcome = "o"
    photos_done = "pd"
    photos_clear = "pc"
    edit = "e"
    submit = "s"


class DraftField(str, Enum):
    reason = "r"
    description = "d"
    outcome = "o"
    photos = "p"


class DraftCb(CallbackData, prefix="df"):
    action: DraftAction
    value: str = ""
