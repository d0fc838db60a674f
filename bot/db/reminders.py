"""Repository: notification preferences (quiet hours, the last reminder message) and mutes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.dialect import insert as upsert
from bot.db.tables import notification_mutes as m
from bot.db.tables import notification_prefs as p


@dataclass(frozen=True, slots=True)
class PrefsRow:
    user_id: int
    quiet_enabled: bool
    quiet_start: int
    quiet_end: int
    last_reminder_at: datetime | None


async def prefs_for(conn: AsyncConnection, user_ids: Iterable[int]) -> dict[int, PrefsRow]:
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    rows = (await conn.execute(
        select(p.c.user_id, p.c.quiet_enabled, p.c.quiet_start, p.c.quiet_end, p.c.last_reminder_at)
        .where(p.c.user_id.in_(user_ids))
    )).all()
    return {r.user_id: PrefsRow(r.user_id, bool(r.quiet_enabled), r.quiet_start, r.quiet_end,
                                r.last_reminder_at) for r in rows}


async def upsert_prefs(conn: AsyncConnection, user_id: int, now: datetime, **values: object) -> None:
    """Create the user's row with the defaults and `values`, or change `values` in it."""
    await conn.execute(
        upsert(p)
        .values(user_id=user_id, updated_at=now, **values)
        .on_conflict_do_update(index_elements=[p.c.user_id], set_={"updated_at": now, **values})
    )


async def mutes_for(conn: AsyncConnection, user_ids: Iterable[int]) -> dict[int, set[str]]:
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    rows = (await conn.execute(select(m.c.user_id, m.c.kind).where(m.c.user_id.in_(user_ids)))).all()
    muted: dict[int, set[str]] = {}
    for r in rows:
        muted.setdefault(r.user_id, set()).add(r.kind)
    return muted


async def mute(conn: AsyncConnection, user_id: int, kind: str, now: datetime) -> bool:
    result = await conn.execute(
        upsert(m).values(user_id=user_id, kind=kind, created_at=now).on_conflict_do_nothing()
    )
    return bool(result.rowcount)


async def unmute(conn: AsyncConnection, user_id: int, kind: str) -> bool:
    result = await conn.execute(delete(m).where(m.c.user_id == user_id, m.c.kind == kind))
    return bool(result.rowcount)
