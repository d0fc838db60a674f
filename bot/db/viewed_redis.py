"""Recently viewed's notes waiting to be written (bot/services/catalog/viewed.py), in Redis
(REDIS_URL): a view noted by one instance is written by whichever instance flushes next — its
scheduler job, or the one about to read or change that user's list.

A hash per user, `REDIS_PREFIX:viewed:<user>`: product id → the newest view (UTC microseconds since
the epoch, compared as numbers), and a set of the users with notes, `REDIS_PREFIX:viewed:users`.
Noting (and putting back the notes of a failed write) keeps the newer view of a product; taking
reads and deletes a user's hash and their place in the set in one Lua script, so two instances
never write the same note and a note made meanwhile is never lost. Every key expires a day
(`TTL_SECONDS`) after its last note: notes nobody flushed for that long (every instance down) are
dropped. Redis failing never fails a product card or a list: the view is not noted, or the list is
read without the notes (they stay for the next flush), with a warning at most once a minute."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.db.redis_warnings import RareWarning

log = logging.getLogger(__name__)

TTL_SECONDS = 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# KEYS: the users' set, then each view's user hash; ARGV: the TTL, then (user, product, time) per view
_NOTE = """
local ttl = tonumber(ARGV[1])
for i = 2, #KEYS do
  local j = 2 + (i - 2) * 3
  local user, product, at = ARGV[j], ARGV[j + 1], tonumber(ARGV[j + 2])
  local old = tonumber(redis.call('HGET', KEYS[i], product) or '-1')
  if old < at then redis.call('HSET', KEYS[i], product, ARGV[j + 2]) end
  redis.call('EXPIRE', KEYS[i], ttl)
  redis.call('SADD', KEYS[1], user)
end
redis.call('EXPIRE', KEYS[1], ttl)
return 1
"""

# KEYS: the users' set, then each user's hash; ARGV: those users' ids. Returns each user's fields
_TAKE = """
local taken = {}
for i = 2, #KEYS do
  taken[i - 1] = redis.call('HGETALL', KEYS[i])
  redis.call('DEL', KEYS[i])
  redis.call('SREM', KEYS[1], ARGV[i - 1])
end
return taken
"""


def _micros(at: datetime) -> int:
    return (at.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)


class RedisPendingViews:
    """`PendingViews` in Redis (see bot/services/catalog/viewed.py)."""

    def __init__(self, redis: Any, *, prefix: str, ttl_seconds: int = TTL_SECONDS) -> None:
        self._redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.users_key = f"{prefix}:viewed:users"
        self._note = redis.register_script(_NOTE)
        self._take = redis.register_script(_TAKE)
        self._failed = RareWarning(log, "Recently viewed: Redis failed (%s); %s")

    def key(self, user_id: int) -> str:
        return f"{self.prefix}:viewed:{user_id}"

    async def note(self, views: dict[tuple[int, int], datetime]) -> None:
        if not views:
            return
        keys, args = [self.users_key], [self.ttl_seconds]
        for (user_id, product_id), at in views.items():
            keys.append(self.key(user_id))
            args += [user_id, product_id, _micros(at)]
        try:
            await self._note(keys=keys, args=args)
        except Exception as exc:
            self._failed(exc, f"{len(views)} views not noted")

    async def take(self, user_id: int | None = None) -> dict[tuple[int, int], datetime]:
        try:
            if user_id is None:
                users = sorted(int(u) for u in await self._redis.smembers(self.users_key))
            else:
                users = [user_id]
            if not users:
                return {}
            taken = await self._take(keys=[self.users_key, *map(self.key, users)], args=users)
        except Exception as exc:
            self._failed(exc, "the notes are written later")
            return {}
        views: dict[tuple[int, int], datetime] = {}
        for user, fields in zip(users, taken, strict=True):
            for product, at in zip(fields[::2], fields[1::2], strict=True):
                views[user, int(product)] = _EPOCH + timedelta(microseconds=int(at))
        return views

    async def count(self) -> int:
        users = await self._redis.smembers(self.users_key)
        async with self._redis.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.hlen(self.key(int(user)))
            return sum(await pipe.execute()) if users else 0
