"""aiogram FSM storage in our database, keyed by the whole StorageKey.

Writes go through the open unit of work when there is one (so "save and leave the flow" commits
atomically with the domain change); otherwise each write is its own short transaction. FSM data must
be JSON of primitives: a value that is not (a datetime, an object) is a programming error and
fails loudly instead of being stored half-way.

Every change of a flow passes through here, whoever makes it (a command, Menu, Cancel, another
section's flow started from an older message): *watchers* are told once per transaction what the
state and data were before it and are after it, once it has committed — e.g. the card flow ends
the gateway's card session its data pointed to (bot/handlers/cards/steps.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import delete

from bot.db.engine import Database, current_scope
from bot.db.tables import fsm_states as t
from bot.db.times import to_db_time

_KEY = "bot_id = ? AND chat_id = ? AND user_id = ? AND thread_id = ? AND business_connection_id = ? AND destiny = ?"
_SELECT = f"SELECT state, data FROM fsm_states WHERE {_KEY}"
# one column (state or data) written, the other kept; one statement each, the driver's own SQL
_UPSERT = {
    column: "INSERT INTO fsm_states (bot_id, chat_id, user_id, thread_id, business_connection_id, destiny, "
            f"updated_at, {column}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bot_id, chat_id, user_id, "
            f"thread_id, business_connection_id, destiny) DO UPDATE SET updated_at = excluded.updated_at, "
            f"{column} = excluded.{column}"
    for column in ("state", "data")
}
# a row with neither state nor data carries nothing: it goes
_DROP_EMPTY = f"DELETE FROM fsm_states WHERE {_KEY} AND state IS NULL AND data = '{{}}'"


class Stored(NamedTuple):
    """A key's row: its state and its data (JSON text)."""

    state: str | None
    data: str


_EMPTY = Stored(None, "{}")


def _params(key: StorageKey) -> tuple[Any, ...]:
    return (key.bot_id, key.chat_id, key.user_id, key.thread_id or 0,
            key.business_connection_id or "", key.destiny)


FlowWatcher = Callable[[str | None, dict[str, Any], str | None, dict[str, Any]], Awaitable[None]]
"""(state before, data before, state after, data after) of one key, after a committed change."""


class SqlStorage(BaseStorage):
    def __init__(self, db: Database, now: Callable[[], datetime], *,
                 watchers: Sequence[FlowWatcher] = ()) -> None:
        self.db = db
        self.now = now
        self.watchers = tuple(watchers)

    async def _row(self, key: StorageKey) -> Stored | None:
        """(state, data JSON) or None; cached for the rest of the update (aiogram's middleware
        reads the state on every update and handlers read it again)."""
        scope = current_scope()
        cache_key = ("fsm", key)
        if scope is not None and cache_key in scope.cache:
            return scope.cache[cache_key]
        row = await self.db.fetch_one(_SELECT, _params(key))
        value = Stored(row["state"], row["data"]) if row else None
        if scope is not None:
            scope.cache[cache_key] = value
        return value

    @staticmethod
    def _remember(key: StorageKey, value: Stored | None) -> None:
        """What this update's own write made the row (a rollback clears the cache: engine.write)."""
        scope = current_scope()
        if scope is not None:
            scope.cache[("fsm", key)] = value

    async def _upsert(self, key: StorageKey, column: str, value: str | None) -> None:
        params = _params(key)
        async with self.db.write():
            before = await self._row(key)  # this update's cached read, or read inside the transaction
            if self.watchers:
                self.db.after_commit(("fsm", key), lambda: self._tell(key, before))
            state, data = before or _EMPTY
            after = Stored(value, data) if column == "state" else Stored(state, str(value))
            await self.db.run(_UPSERT[column], (*params, to_db_time(self.now()), value))
            if after == _EMPTY:  # as the row in the database says, not as the cache does
                await self.db.run(_DROP_EMPTY, params)
            self._remember(key, None if after == _EMPTY else after)

    async def _tell(self, key: StorageKey, before: Stored | None) -> None:
        after = await self._row(key)
        if after == before:
            return
        old_state, old_data = before or _EMPTY
        new_state, new_data = after or _EMPTY
        for watcher in self.watchers:
            await watcher(old_state, json.loads(old_data), new_state, json.loads(new_data))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, "state", value)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(key)
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        await self._upsert(key, "data", json.dumps(data, ensure_ascii=False, sort_keys=True))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(key)
        return json.loads(row.data) if row else {}

    async def close(self) -> None:  # the Database is closed by its owner
        return None


async def sweep_abandoned(db: Database, older_than: datetime) -> int:
    """Forget flows nobody touched since `older_than`. Returns how many were removed."""
    async with db.write() as conn:
        result = await conn.execute(delete(t).where(t.c.updated_at < older_than))
        return result.rowcount or 0
