"""Bank cards: the wallet, a card (make default, replace, delete) and the add-card flow.

    steps.py     the add-card flow's states, FSM data and how a step is shown (one router)
    wallet.py    the wallet and a card
    add_flow.py  the add-card flow as one table: number → expiry → cardholder → CVC; its starts
    paying.py    the screens of paying an order with a new card (the flow started from Pay)

The number and the CVC never reach FSM data: see steps.py.
"""

from __future__ import annotations

# registers their handlers (their filters are disjoint); the wallet first, so a menu press is
# tried by the wallet's handlers, not by the flow's
# isort: off
from bot.handlers.cards import wallet  # noqa: F401
from bot.handlers.cards import add_flow  # noqa: F401
# isort: on
from bot.handlers.cards.add_flow import start_for_order
from bot.handlers.cards.steps import ends_card_sessions, router

__all__ = ["ends_card_sessions", "router", "start_for_order"]
