"""The operators' screen (/ops)."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id


class OpsAction(str, Enum):
    refresh = "r"
    refund = "f"  # send refund `id` to the payment gateway again
    pushes = "p"  # send the failed pushes again
    webhooks = "w"  # send the shops' given-up webhooks again


class OpsCb(CallbackData, prefix="op"):
    action: OpsAction
    id: Id = 0
