"""One backoff rule for the outbox, refunds and payment attempts."""

from __future__ import annotations

from datetime import timedelta

from bot.services.backoff import doubling
from bot.services.outbox import Backoff
from bot.services.pay import RECHECK_MAX, RECONCILE_AFTER
from bot.services.refunds import retry_pause

MINUTE = timedelta(minutes=1)


def test_doubling_from_the_first_pause_up_to_the_most() -> None:
    assert [doubling(MINUTE, 10 * MINUTE, n) for n in (-1, 0, 1, 2, 3, 4, 5)] == [
        MINUTE, MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE, 10 * MINUTE, 10 * MINUTE]
    assert doubling(MINUTE, 10 * MINUTE, 10**6) == 10 * MINUTE  # no overflow after many failures


def test_the_three_retry_schedules() -> None:
    assert [Backoff().delay(n) for n in (1, 2, 3, 7, 8)] == [
        timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40), timedelta(seconds=640),
        timedelta(minutes=15)]
    assert [retry_pause(n) for n in (0, 1, 2, 3, 8)] == [5 * MINUTE, 5 * MINUTE, 10 * MINUTE, 20 * MINUTE,
                                                          timedelta(hours=6)]
    assert [doubling(RECONCILE_AFTER, RECHECK_MAX, n) for n in (0, 1, 4, 5)] == [
        2 * MINUTE, 4 * MINUTE, 32 * MINUTE, timedelta(hours=1)]
