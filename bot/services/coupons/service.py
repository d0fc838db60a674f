"""`CouponService`: one object for the wallet screens, checkout and the operator's commands, made
of its sides (`wallet.py`, `checkout.py`, `issuing.py`) over what they share (`base.py`)."""

from __future__ import annotations

from bot.services.coupons.checkout import CheckoutCoupling
from bot.services.coupons.issuing import Issuing
from bot.services.coupons.wallet import WalletSide

__all__ = [
    "CouponService",
]


class CouponService(WalletSide, CheckoutCoupling, Issuing):
    pass
