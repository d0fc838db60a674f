"""What every side of the coupon service shares: its wiring and the expiry reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.coupons import Coupon
from bot.db.engine import Database
from bot.services import reminders
from bot.services.clock import Clock
from bot.services.errors import N_
from bot.services.notifications import Category, declare

__all__ = [
    "EXPIRY_KIND", "CouponBase",
]


EXPIRY_KIND = declare("coupon_expiry", N_("Coupons about to expire"), category=Category.reminder, order=40)
REMINDERS: tuple[tuple[timedelta, str], ...] = ((timedelta(days=3), "3d"), (timedelta(days=1), "1d"))

ATTEMPT_WINDOW = timedelta(minutes=10)
MAX_FAILED_ATTEMPTS = 5
KEEP_ATTEMPTS = timedelta(days=1)
PAGE_SIZE = 6


def reminder_prefix(coupon_id: int) -> str:
    return f"coupon:{coupon_id}:expiry:"


class CouponBase:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # -- reminders and housekeeping ----------------------------------------------------------
    async def _plan_reminders(self, conn: AsyncConnection, coupon: Coupon, now: datetime) -> None:
        """The coupon's expiry reminders (3 days and 1 day before), re-planned as a whole: those
        already past are not planned, a used coupon has none."""
        terms = coupon.terms
        payload = {
            "coupon_id": coupon.id, "valid_to": terms.valid_to.isoformat(), "scope": str(terms.scope),
            "store_name": terms.store_name, "value_kind": str(terms.value_kind),
            "amount_minor": terms.amount_minor, "percent": terms.percent,
            "cap_minor": terms.cap_minor, "currency": terms.currency,
            "min_order_minor": terms.min_order_minor,
        }
        wanted = [
            reminders.Reminder(
                EXPIRY_KIND.key, f"{reminder_prefix(coupon.id)}{label}", due_at=terms.valid_to - ahead,
                payload={**payload, "days": ahead.days}, expires_at=terms.valid_to,
            )
            for ahead, label in REMINDERS
            if terms.valid_to - ahead > now and coupon.status == "active"
        ]
        await reminders.replan(conn, user_id=coupon.user_id, prefix=reminder_prefix(coupon.id),
                               reminders=wanted, now=now)
