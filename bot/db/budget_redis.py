"""Telegram's overall send budget in Redis (REDIS_URL): every process behind one webhook counts its
replies and pushes in one window, so together they never send more than `TELEGRAM_RATE` messages
in any one second (with memory budgets, N processes would send N times as many).

The same bucket as the memory one (bot/services/ratelimit.py): `total` tokens, a spent token comes
back exactly one second after it was spent. It is kept as a sorted set of the sends of the last
second (score: the send's time), taken and counted by one Lua script, so two processes never both
take the last token. A reply is always counted and never waits; a push takes a token only when the
window holds fewer than `total` sends, else it is told when the oldest one leaves. Telegram's 429
("retry after") on any process holds every process's pushes until then (a key with that moment).
Time is the caller's clock (the injected one), never Redis's. Redis failing does not stop a send:
it goes out under the process's own limits (`DELIVERY_RATE`, one a second per chat), with a
warning at most once a minute."""

from __future__ import annotations

import itertools
import logging
import math
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.db.redis_warnings import RareWarning

log = logging.getLogger(__name__)

_TAKE = """
local now, total, force = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
if not force then
  local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
  if paused > now then return {0, tostring(paused)} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1)
local n = redis.call('ZCARD', KEYS[1])
if force or n < total then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('EXPIRE', KEYS[1], 60)
  return {1, '0'}
end
local oldest = redis.call('ZRANGE', KEYS[1], n - total, n - total, 'WITHSCORES')
return {0, tostring(tonumber(oldest[2]) + 1)}
"""

_PAUSE = """
local upto = tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if upto > paused then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return ARGV[1]
end
return tostring(paused)
"""


class RedisSendBudget:
    """`SendBudget`'s part shared by every process: `take` for a push, `reply` for a reply,
    `pause_all` for a 429."""

    shared = True

    def __init__(self, redis: Any, now: Any, total: int, *, prefix: str) -> None:
        if total < 1:
            raise ValueError("total must be at least 1")
        self._now = now
        self.total = total
        self._window = f"{prefix}:sendbudget:window"
        self._paused = f"{prefix}:sendbudget:paused"
        self._redis = redis
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)
        self._me = secrets.token_hex(6)  # a send's member in the window: this process and a count
        self._count = itertools.count()
        self._failed = RareWarning(log, "send budget: Redis failed (%s); sending under this process's limits")

    async def _run(self, now: datetime, *, force: bool) -> datetime | None:
        try:
            taken, later = await self._take(keys=[self._window, self._paused],
                                            args=[repr(now.timestamp()), self.total, int(force),
                                                  f"{self._me}:{next(self._count)}"])
        except Exception as exc:
            self._failed(exc)
            return None
        if int(taken):
            return None
        return datetime.fromtimestamp(float(later), UTC)

    async def take(self, now: datetime) -> datetime | None:
        """A push's token at `now`: None when taken, else the moment to ask again."""
        return await self._run(now, force=False)

    async def reply(self) -> None:
        """A reply is being sent now: counted, never refused."""
        await self._run(self._now(), force=True)

    async def pause_all(self, seconds: float) -> datetime:
        """Telegram asked to wait `seconds`: every process's pushes wait until then."""
        until = self._now() + timedelta(seconds=max(0.0, seconds))
        try:
            kept = await self._pause(keys=[self._paused],
                                     args=[repr(until.timestamp()), math.ceil(seconds) + 60])
        except Exception as exc:
            self._failed(exc)
            return until
        return datetime.fromtimestamp(float(kept), UTC)

    async def paused_till(self) -> datetime | None:
        """Until when a 429 holds every process's sends (None: not held now, or Redis failed)."""
        try:
            raw = await self._redis.get(self._paused)
        except Exception as exc:
            self._failed(exc)
            return None
        return None if raw is None else datetime.fromtimestamp(float(raw), UTC)
