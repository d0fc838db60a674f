"""An album's items gathered in Redis (REDIS_URL), so that items reaching different instances are
relayed as one album (bot/handlers/relay.py: Albums).

An album arrives as one update per item. Each item is appended to the album's list and bumps its
generation; the process that added it looks again after the settling moment and takes the list
only if no item came since (its generation is still the newest) — so exactly one process, the one
that got the last item, relays the album, whichever processes got the others. Taking is one
script: the list is read and deleted together. Items are opaque strings here (the handler keeps
them as the messages' JSON); everything expires after a minute.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

ALBUM_TTL_MS = 60_000

# KEYS: the items, the generation. ARGV: the item, the TTL. Returns the item's generation.
_ADD = """
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local generation = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return generation
"""
# KEYS: the items, the generation. ARGV: the generation of the item seen last, or '' to take now.
_TAKE = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return false end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2])
return items
"""


class RedisAlbumItems:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.prefix = prefix
        self._add = redis.register_script(_ADD)
        self._take = redis.register_script(_TAKE)

    def _keys(self, chat_id: int, group: str) -> list[str]:
        base = f"{self.prefix}:album:{chat_id}:{group}"
        return [base, base + ":generation"]

    async def add(self, chat_id: int, group: str, item: str) -> int:
        """Keep an item; returns its generation (what `take` is asked with)."""
        return int(await self._add(keys=self._keys(chat_id, group), args=[item, ALBUM_TTL_MS]))

    async def take(self, chat_id: int, group: str, generation: int | None) -> list[str] | None:
        """The album's items, in the order they were added, if no item came after `generation`
        (None: whatever is there now); None when a later item's process is to relay them."""
        found: Any = await self._take(keys=self._keys(chat_id, group),
                                      args=["" if generation is None else str(generation)])
        if not found:
            return None
        return [item.decode() if isinstance(item, bytes) else item for item in found]
