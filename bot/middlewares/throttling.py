"""Flood protection: each user gets a bucket of `burst` updates that refills at `rate` a second.

A person taps and types far slower than that (an album of photos arrives as several updates at
once: the burst covers it). Beyond it — a stuck key, a script, someone hammering a button — the
updates are dropped before any handler or unit of work runs, so one user can't hold the single
database writer for everyone else. A dropped button press is answered ("Too many taps…"), since
Telegram shows a spinner until it is; the first dropped message of a spell gets one reply saying
so, the rest nothing. Nothing of an open flow is touched: the next update, once the bucket has
refilled, carries on where the user was.

The buckets live in process memory (a restart forgets them, which only ever errs on the user's
side) and are pruned when many are full again. Time comes from the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram.types import CallbackQuery, Message, Update

from bot.middlewares.base import Proceed, UpdateMiddleware, sender
from bot.views.common import Fmt


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: datetime
    warned: bool = False  # the user was told during this spell


class Throttle:
    """Token buckets per user: `allow(user_id, now)` spends one token or says no."""

    PRUNE_OVER = 10_000

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._buckets: dict[int, _Bucket] = {}

    def _refill(self, bucket: _Bucket, now: datetime) -> None:
        elapsed = max((now - bucket.at).total_seconds(), 0.0)
        bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.warned = False

    def allow(self, user_id: int, now: datetime) -> bool:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= self.PRUNE_OVER:
                self._prune(now)
            bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
        else:
            self._refill(bucket, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True
        return False

    def first_refusal(self, user_id: int) -> bool:
        """True once per spell of refusals: whether to tell the user."""
        bucket = self._buckets[user_id]
        if bucket.warned:
            return False
        bucket.warned = True
        return True

    def _prune(self, now: datetime) -> None:
        """Forget the users whose bucket is full again (they lose nothing)."""
        for user_id, bucket in list(self._buckets.items()):
            self._refill(bucket, now)
            if bucket.tokens >= self.burst:
                del self._buckets[user_id]

    def __len__(self) -> int:
        return len(self._buckets)


class ThrottlingMiddleware(UpdateMiddleware):
    """On the update observer, after the user and i18n middlewares (so the notice is in the
    user's language); only messages and button presses count."""

    def __init__(self, throttle: Throttle, now: Callable[[], datetime]) -> None:
        self.throttle = throttle
        self.now = now

    async def on_update(self, update: Update, data: dict[str, Any], proceed: Proceed) -> Any:
        inner = update.message or update.callback_query
        tg = sender(data)
        if inner is None or tg is None or self.throttle.allow(tg.id, self.now()):
            return await proceed()
        f: Fmt = data["f"]
        if isinstance(inner, CallbackQuery):
            await inner.answer(f._("Too many taps. Please wait a second."))
        elif isinstance(inner, Message) and self.throttle.first_refusal(tg.id):
            await inner.answer(f._("You are sending messages too fast. I'll answer again in a few seconds; "
                                   "nothing you entered so far is lost."))
        return None
