"""Coupons: the wallet's tabs and pages, a coupon's and a certificate's card, "Enter a code"."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id, Page
from bot.services.coupons import Tab


class CouponAction(str, Enum):
    tab = "t"  # a tab's page
    coupon = "c"  # a coupon's card
    certificate = "g"  # a gift certificate's card
    code = "k"  # "Enter a code"


class CouponCb(CallbackData, prefix="cp"):
    action: CouponAction
    tab: Tab = Tab.active
    page: Page = 0
    id: Id = 0
