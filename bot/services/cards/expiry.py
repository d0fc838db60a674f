"""A card's expiry: when it ends, whether it has, and the reminder 30 days before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.services import reminders
from bot.services.cards.policy import EXPIRY_KIND, EXPIRY_NOTICE
from bot.services.clock import after_month

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "valid_until",
]


def valid_until(exp_month: int, exp_year: int) -> datetime:
    """The first moment the card is no longer valid: the start of the month after its expiry (UTC)."""
    return after_month(exp_year, exp_month)


async def plan_expiry_reminder(conn: AsyncConnection, *, user_id: int, card_id: int, brand: str, last4: str,
                               exp_month: int, exp_year: int, now: datetime) -> None:
    """The card's expiry reminder (30 days before the end of its month), re-planned as a whole: none
    when that moment has passed already."""
    end = valid_until(exp_month, exp_year)
    due = end - EXPIRY_NOTICE
    wanted = [reminders.Reminder(
        EXPIRY_KIND.key, f"card:{card_id}:expiry", due_at=due, expires_at=end,
        payload={"card_id": card_id, "brand": brand, "last4": last4, "exp_month": exp_month,
                 "exp_year": exp_year},
    )] if due > now else []
    await reminders.replan(conn, user_id=user_id, prefix=f"card:{card_id}:", reminders=wanted, now=now)


def is_expired(exp_month: int, exp_year: int, now: datetime) -> bool:
    """A card is valid to the end of its month: `now >= valid_until(…)`, compared as (year, month)
    in UTC so that no date is built — a typed year like 0000 or 9999 has none."""
    utc = now.astimezone(UTC)
    return (exp_year, exp_month) < (utc.year, utc.month)
