"""Seller mode: one callback for the seller's menu and its lists. A seller sees only their own
stores' orders, conversations, reviews and disputes; every id is checked against the user by the
service behind it.

The menu's Conversations entry (`SellerAction.conversations`) opens the relay's conversation list
for the seller's side (bot/handlers/relay.py); the other entries are seller mode's own
(bot/handlers/seller/)."""

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


class SellerCb(CallbackData, prefix="sl"):
    action: SellerAction
    id: Id = 0
    page: Page = 0
