"""The wallet's numbers: how many cards, the verification hold, how many checks an hour; and the
pushes cards write (kinds)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.services.errors import N_
from bot.services.notifications import Category, declare

if TYPE_CHECKING:
    pass

__all__ = [
    "CARD_LIMIT",
    "EXPIRY_KIND",
    "HOLD_AMOUNT_MINOR",
    "HOLD_CURRENCY",
    "HOLD_RELEASED_KIND",
]


CARD_LIMIT = 5
HOLD_AMOUNT_MINOR = 100  # $1.00
HOLD_CURRENCY = "USD"
HOLD_RELEASE_AFTER = timedelta(0)  # on the sweeper's next tick; we promise "within a day"
HOLD_RETRY_AFTER = timedelta(minutes=5)
HOLDER_MAX = 26
# Card checks a user may start per hour: adding cards is where stolen numbers get tested.
VERIFY_LIMIT, VERIFY_WINDOW = 10, timedelta(hours=1)
MAX_YEARS_AHEAD = 20
HOLD_RELEASED_KIND = declare("card_hold_released", N_("Card check hold released"), order=60)  # money news
# a reminder 30 days before the end of the card's expiry month
EXPIRY_KIND = declare("card_expiry", N_("Cards about to expire"), category=Category.reminder, order=61)
EXPIRY_NOTICE = timedelta(days=30)
