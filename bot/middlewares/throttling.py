"""Flood protection: each user gets a bucket of `burst` updates that refills at `rate` a second.

A person taps and types far slower than that (an album of photos arrives as several updates at
once: the burst covers it). Beyond it — a stuck key, a script, someone hammering a button — the
updates are dropped before any handler or unit of work runs, so one user can't hold the single
database writer for everyone else. A dropped button press is answered ("Too many taps…"), since
Telegram shows a spinner until it is; the first dropped message of a spell gets one reply saying
so, the rest nothing. Nothing of an open flow is touched: the next update, once the bucket has
refilled, carries on where the user was.

The buckets live in process memory (a restart forgets them, which only ever errs on the user's
side) and are pruned when many are full again; with REDIS_URL they live in Redis, shared by every
process (bot/db/throttle_redis.py), so a user's updates spread over several instances behind one
webhook still meet one bucket. Time comes from the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from aiogram.types import CallbackQuery, Message, Update

from bot.middlewares.base import Proceed, UpdateMiddleware, sender
from bot.services.ratelimit import TokenBuckets
from bot.views.common import Fmt


class Throttle(TokenBuckets):
    """Token buckets per user (`bot/services/ratelimit.py`): `allow(user_id, now)` spends one token
    or says no; `first_refusal` says whether to tell the user."""

    def first_refusal(self, user_id: int) -> bool:
        """True once per spell of refusals: whether to tell the user."""
        bucket = self._buckets[user_id]
        if bucket.warned:
            return False
        bucket.warned = True
        return True

    async def take(self, user_id: int, now: datetime, *, warn: bool) -> tuple[bool, bool]:
        """(allowed, tell the user): a token spent, or a refusal and — when `warn` — whether it is
        the first of its spell. The Redis buckets (bot/db/throttle_redis.py) answer the same."""
        if self.allow(user_id, now):
            return True, False
        return False, warn and self.first_refusal(user_id)


class Buckets(Protocol):
    async def take(self, user_id: int, now: datetime, *, warn: bool) -> tuple[bool, bool]: ...


class ThrottlingMiddleware(UpdateMiddleware):
    """On the update observer, after the user and i18n middlewares (so the notice is in the
    user's language); only messages and button presses count."""

    def __init__(self, throttle: Buckets, now: Callable[[], datetime]) -> None:
        self.throttle = throttle
        self.now = now

    async def on_update(self, update: Update, data: dict[str, Any], proceed: Proceed) -> Any:
        inner = update.message or update.callback_query
        tg = sender(data)
        if inner is None or tg is None:
            return await proceed()
        allowed, tell = await self.throttle.take(tg.id, self.now(), warn=isinstance(inner, Message))
        if allowed:
            return await proceed()
        f: Fmt = data["f"]
        if isinstance(inner, CallbackQuery):
            await inner.answer(f._("Too many taps. Please wait a second."))
        elif tell:
            await inner.answer(f._("You are sending messages too fast. I'll answer again in a few seconds; "
                                   "nothing you entered so far is lost."))
        return None
