"""`OrderService`: one object the handlers, the operator commands and the sweeper call, made of its
sides (`buyer.py`, `shop.py`, `sweeper.py`) over what they share (`base.py`)."""

from __future__ import annotations

from bot.services.orders.buyer import BuyerActions
from bot.services.orders.shop import ShopSide
from bot.services.orders.sweeper import SweeperJobs

__all__ = [
    "OrderService",
]


class OrderService(BuyerActions, ShopSide, SweeperJobs):
    pass
