"""The one backoff rule for retries: the outbox's sends, refunds at the gateway, payment attempts
whose outcome the gateway could not be asked about, and Bot API requests that failed on the way
(bot/middlewares/requests.py)."""

from __future__ import annotations

from datetime import timedelta


def doubling(first: timedelta, most: timedelta, n: int) -> timedelta:
    """The pause before retry number `n` (0 = the first): first·2ⁿ, at most `most`."""
    pause = first
    for _ in range(max(n, 0)):
        if pause >= most:
            break
        pause *= 2
    return min(pause, most)
