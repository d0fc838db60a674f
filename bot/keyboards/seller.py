"""Seller mode: one callback for the seller's menu and its lists. A seller sees only their own
stores' orders, conversations, reviews and disputes; every id is checked against the user by the
service behind it.

The menu's Conversations entry (`SellerAction.conversations`) opens the relay's conversation list
for the seller's side (bot/handlers/relay.py); the other entries are seller mode's own
(bot/handlers/seller.py).

`SellerStepCb` carries the buttons of seller mode's steps (the carrier of a parcel)."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id, Page


class SellerAction(str, Enum):
    menu = "m"  # the seller's menu
    conversations = "c"  # conversations with buyers (the relay's screens, seller side)
    reviews = "r"  # reviews to answer (a page)
    review = "ro"  # one review
    disputes = "d"  # disputes (a page)
    dispute = "do"  # one dispute
    orders = "o"  # orders to ship (a page)
    order = "oo"  # one order to ship
    noop = "n"  # a pager's middle button
    answer = "ra"  # answer a review: the reply step (id = review id)
    accept = "da"  # accept a dispute: are you sure? (id = dispute id)
    accept_ok = "dy"
    reject = "dr"  # reject a dispute: the reason step
    offer = "df"  # offer a partial refund: the amount step
    received = "dc"  # a returned item came back: are you sure? (id = dispute id)
    received_ok = "dcy"
    problem = "dq"  # a returned item did not come back as sent: the reason step (id = dispute id)
    ship = "os"  # mark an order shipped: the track number step, then the carrier (id = order id)


class SellerCb(CallbackData, prefix="sl"):
    action: SellerAction
    id: Id = 0
    page: Page = 0


class StepAction(str, Enum):
    carrier = "c"  # value: the carrier's code


class SellerStepCb(CallbackData, prefix="sls"):
    action: StepAction
    value: str = ""
