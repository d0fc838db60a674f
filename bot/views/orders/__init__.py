"""Orders screens: the tabs, the order card and its confirmations, tracking, deleted orders.

Texts that other screens share (status names, where a refund goes) live here too, so the disputes
screens and, later, the pushes say the same thing the same way.

    texts.py     status and tab names, cancel reasons, tracking events, dispute states, refund texts
    lists.py     the tabs, search, Deleted orders     card.py      the order card and its buttons
    confirm.py   cancel, confirm receipt, delete       track.py     the tracking screen
    pushes.py    the section's pushes (registered on import)
"""

from __future__ import annotations

from bot.views.orders import pushes as pushes  # registers how the section's pushes look
from bot.views.orders.card import *  # noqa: F403
from bot.views.orders.confirm import *  # noqa: F403
from bot.views.orders.lists import *  # noqa: F403
from bot.views.orders.texts import *  # noqa: F403
from bot.views.orders.track import *  # noqa: F403
