"""Callbacks of Review management: the lists, a review, and the review flow's steps."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id, Index, Page


class ReviewAction(str, Enum):
    home = "h"
    awaiting = "a"  # items awaiting a review (page)
    mine = "m"  # my reviews (page)
    write = "w"  # write (or edit) the review of an item (id = order item)
    order = "o"  # the items of one order to review (id = order)
    open = "v"  # a review's card (id = review)
    extra = "x"  # add the additional review (id = review)
    photos = "p"  # send a review's photos (id = review)
    noop = "n"


class ReviewCb(CallbackData, prefix="rv"):
    action: ReviewAction
    id: Id = 0
    page: Page = 0


class DraftAction(str, Enum):
    star = "s"  # value = 1..5
    skip_text = "t"
    keep_stars = "k"  # an additional review: the stars stay as they were
    photos_done = "d"
    photos_clear = "c"
    edit = "e"  # value: 1 rating, 2 text, 3 photos
    publish = "ok"


class ReviewDraftCb(CallbackData, prefix="rvd"):
    action: DraftAction
    value: Index = 0


EDIT_RATING, EDIT_TEXT, EDIT_PHOTOS = 1, 2, 3
