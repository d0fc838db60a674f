"""Time comes from a Clock so that tests and benchmarks control it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """A user's time zone by its IANA name; UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def day_end(moment: datetime, tz: ZoneInfo) -> datetime:
    """The last moment of `moment`'s calendar day in `tz`, in UTC: a deadline given as a date
    ("send it back by 17 December") holds until that day is over where the person is."""
    local = moment.astimezone(tz)
    return datetime.combine(local.date(), time.max, tzinfo=tz).astimezone(UTC)


def after_month(year: int, month: int) -> datetime:
    """The first moment after a calendar month (UTC): when a card that expires in it stops being
    valid (bot/services/cards/expiry.py; the paying card an order remembers, refunds.CardSnapshot)."""
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when
