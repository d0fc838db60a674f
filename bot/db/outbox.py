"""Repository: the outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.tables import outbox as t


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    user_id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    due_at: datetime
    state: str
    attempts: int


async def add(conn: AsyncConnection, *, user_id: int, kind: str, payload: dict[str, Any],
              dedupe_key: str, due_at: datetime, now: datetime) -> bool:
    """Insert a push unless one with the same dedupe key exists. Returns whether it was added."""
    result = await conn.execute(
        sqlite_insert(t)
        .values(user_id=user_id, kind=kind, payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                dedupe_key=dedupe_key, due_at=due_at, created_at=now)
        .on_conflict_do_nothing(index_elements=[t.c.dedupe_key])
    )
    return bool(result.rowcount)


async def for_user(conn: AsyncConnection, user_id: int, kind: str | None = None) -> list[OutboxRow]:
    query = select(t.c.id, t.c.user_id, t.c.kind, t.c.payload, t.c.dedupe_key, t.c.due_at, t.c.state,
                   t.c.attempts).where(t.c.user_id == user_id)
    if kind is not None:
        query = query.where(t.c.kind == kind)
    rows = (await conn.execute(query.order_by(t.c.id))).all()
    return [OutboxRow(r.id, r.user_id, r.kind, json.loads(r.payload), r.dedupe_key, r.due_at, r.state,
                      r.attempts) for r in rows]


async def delete_pending(conn: AsyncConnection, dedupe_prefix: str) -> int:
    """Delete the pending rows whose dedupe key starts with `dedupe_prefix`. A range on the key
    (not LIKE) so that the unique index on dedupe_key serves it. Returns how many went."""
    if not dedupe_prefix:
        raise ValueError("an empty prefix would match every row")
    upper = dedupe_prefix[:-1] + chr(ord(dedupe_prefix[-1]) + 1)
    result = await conn.execute(
        t.delete().where(t.c.dedupe_key >= dedupe_prefix, t.c.dedupe_key < upper,
                         t.c.state == "pending")
    )
    return result.rowcount or 0
