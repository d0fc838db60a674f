"""The keyboard on screen, for typed button labels (bot/middlewares/typed_buttons.py), in Redis
(REDIS_URL): every instance behind one webhook knows the newest inline keyboard of each chat, so a
screen shown by one instance is recognised when the user's typed label reaches another.

One key per chat, `REDIS_PREFIX:keyboard:<bot id>:<chat id>`: JSON `{"m": message id, "b": [[label
key, callback data], …]}`, kept 7 days from the last screen (`TTL_SECONDS`). A newer screen
replaces it; "that message lost its keyboard" deletes it only while it is still that message's
(one Lua script). Redis failing never fails a send or a message: the keyboard is not remembered or
not found (a typed label is then handled as text), with a warning at most once a minute."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.db.redis_warnings import RareWarning

Buttons = tuple[tuple[str, str], ...]  # (label key, callback data)

log = logging.getLogger(__name__)

TTL_SECONDS = 7 * 86400

_GONE = """
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw)['m'] == tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class RedisKeyboards:
    """`KeyboardMemory` in Redis (see bot/middlewares/typed_buttons.py; what is kept is plain
    tuples, so this module needs nothing of aiogram's or the middleware's)."""

    def __init__(self, redis: Any, *, prefix: str, ttl_seconds: int = TTL_SECONDS) -> None:
        self._redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._gone = redis.register_script(_GONE)
        self._failed = RareWarning(log, "typed buttons: Redis failed (%s); a keyboard is not remembered or found")

    def key(self, bot_id: int, chat_id: int) -> str:
        return f"{self.prefix}:keyboard:{bot_id}:{chat_id}"

    async def shown(self, bot_id: int, chat_id: int, shown: tuple[int, Buttons]) -> None:
        message_id, buttons = shown
        if not buttons:
            await self.gone(bot_id, chat_id, message_id)
            return
        value = json.dumps({"m": message_id, "b": [list(b) for b in buttons]},
                           ensure_ascii=False, separators=(",", ":"))
        try:
            await self._redis.set(self.key(bot_id, chat_id), value, ex=self.ttl_seconds)
        except Exception as exc:
            self._failed(exc)

    async def gone(self, bot_id: int, chat_id: int, message_id: int) -> None:
        try:
            await self._gone(keys=[self.key(bot_id, chat_id)], args=[message_id])
        except Exception as exc:
            self._failed(exc)

    async def current(self, bot_id: int, chat_id: int) -> tuple[int, Buttons] | None:
        try:
            raw = await self._redis.get(self.key(bot_id, chat_id))
        except Exception as exc:
            self._failed(exc)
            return None
        if raw is None:
            return None
        try:
            found = json.loads(raw)
            return int(found["m"]), tuple((str(k), str(d)) for k, d in found["b"])
        except (ValueError, KeyError, TypeError):  # not ours: as if nothing were remembered
            return None
