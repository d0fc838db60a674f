"""Flood protection's buckets in Redis (REDIS_URL): one hash per user, `THROTTLE_BURST` tokens
refilled at `THROTTLE_RATE` a second, spent and refilled by one Lua script, so every process
behind one webhook spends from the same bucket. The same rules as the memory buckets
(bot/middlewares/throttling.py: Throttle): the first refused message of a spell is told, a
refill ends the spell. Time is the caller's clock (the injected one), never Redis's; a clock
a little behind another's never refills twice (`at` only moves forward). A bucket expires once it
would be full again, so idle users keep nothing."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

_TAKE = """
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'warned')
local now, rate, burst, warn = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local tokens, at, warned = tonumber(b[1]), tonumber(b[2]), b[3] == '1'
if tokens == nil then
  tokens, at, warned = burst, now, false
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
  at = now
  if tokens >= 1 then warned = false end
end
local allowed, tell = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
elseif warn and not warned then
  warned = true
  tell = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at), 'warned', warned and '1' or '0')
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {allowed, tell}
"""


class RedisThrottle:
    def __init__(self, redis: Any, rate: float, burst: int, *, prefix: str) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._script = redis.register_script(_TAKE)
        self._ttl = math.ceil(burst / rate) + 1  # full again by then: nothing to keep

    async def take(self, user_id: int, now: datetime, *, warn: bool) -> tuple[bool, bool]:
        allowed, tell = await self._script(keys=[f"{self.prefix}:throttle:{user_id}"],
                                           args=[repr(now.timestamp()), repr(self.rate), self.burst,
                                                 int(warn), self._ttl])
        return bool(allowed), bool(tell)
