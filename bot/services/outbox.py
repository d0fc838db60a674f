"""Pushes: a service that changes something writes the push for it into the outbox, in the same
unit of work. Delivery (rendering in the user's language, rate limits, retries) is the reminders
section's job; until it lands, rows wait in the table.

Payloads are JSON of primitives holding everything the push's view needs later: ids, numbers,
amounts in minor units with their currency, ISO times — never formatted text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import outbox as repo


async def enqueue(conn: AsyncConnection, *, user_id: int, kind: str, payload: dict[str, Any],
                  dedupe_key: str, now: datetime, due_at: datetime | None = None) -> bool:
    """Write a push inside the caller's unit of work. The dedupe key names the event
    (e.g. "order:42:status:shipped"), so writing the same event twice keeps one row."""
    return await repo.add(conn, user_id=user_id, kind=kind, payload=payload, dedupe_key=dedupe_key,
                          due_at=due_at or now, now=now)


async def drop_pending(conn: AsyncConnection, dedupe_prefix: str) -> int:
    """Forget pushes not yet sent whose dedupe key starts with `dedupe_prefix` (e.g.
    "coupon:12:expiry:" once the coupon is used), in the caller's unit of work. Rows already being
    sent or sent stay. Returns how many were dropped."""
    return await repo.delete_pending(conn, dedupe_prefix)
