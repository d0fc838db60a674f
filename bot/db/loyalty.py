"""Repository: the loyalty points ledger and the computed level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.rows import columns, record
from bot.db.tables import loyalty_ledger as t
from bot.db.tables import loyalty_levels as lv
from bot.db.tables import orders as ot


@dataclass(frozen=True, slots=True)
class EntryRow:
    id: int
    user_id: int
    points: int
    reason: str
    ref_id: int
    reverses_id: int | None
    key: str
    created_at: datetime
    effective_at: datetime


@dataclass(frozen=True, slots=True)
class LevelRow:
    user_id: int
    level: int
    points: int
    recheck_at: datetime | None
    updated_at: datetime


_ENTRY = columns(t, EntryRow)
_LEVEL = columns(lv, LevelRow)


async def by_key(conn: AsyncConnection, user_id: int, key: str) -> EntryRow | None:
    row = (await conn.execute(select(*_ENTRY).where(t.c.user_id == user_id, t.c.key == key))).first()
    return record(EntryRow, row) if row else None


async def total(conn: AsyncConnection, user_id: int) -> int:
    return int((await conn.execute(
        select(func.coalesce(func.sum(t.c.points), 0)).where(t.c.user_id == user_id))).scalar_one())


async def insert(conn: AsyncConnection, *, user_id: int, points: int, reason: str, ref_id: int, key: str,
                 now: datetime, effective_at: datetime | None = None, reverses_id: int | None = None) -> int:
    result = await conn.execute(t.insert().values(
        user_id=user_id, points=points, reason=reason, ref_id=ref_id, key=key, reverses_id=reverses_id,
        created_at=now, effective_at=effective_at or now,
    ))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


@dataclass(frozen=True, slots=True)
class Purchase:
    id: int  # the order
    total_minor: int
    paid_at: datetime


async def paid_between(conn: AsyncConnection, user_id: int, start: datetime, end: datetime) -> list[Purchase]:
    """The user's orders paid in [start, end), the earliest first (a day's purchases)."""
    rows = (await conn.execute(select(ot.c.id, ot.c.total_minor, ot.c.paid_at).where(
        ot.c.user_id == user_id, ot.c.paid_at >= start, ot.c.paid_at < end).order_by(ot.c.paid_at, ot.c.id))).all()
    return [record(Purchase, r) for r in rows]


def _standing() -> ColumnElement[bool]:
    """An entry no reversal references: it stands."""
    reversal = t.alias("reversal")
    return ~select(reversal.c.id).where(reversal.c.reverses_id == t.c.id).exists()


async def standing_for(conn: AsyncConnection, user_id: int, reason: str, ref_id: int) -> list[EntryRow]:
    """The entries of this reason for `ref_id` not taken back (an order's day bonuses that stand)."""
    rows = (await conn.execute(select(*_ENTRY).where(
        t.c.user_id == user_id, t.c.reason == reason, t.c.ref_id == ref_id, _standing()).order_by(t.c.id))).all()
    return [record(EntryRow, r) for r in rows]


async def standing_daily(conn: AsyncConnection, user_id: int, day: str, reason: str) -> bool:
    """Whether a purchase bonus (`reason`) of this day (keys "daily:<day>…") stands: one not taken back."""
    found = (await conn.execute(
        select(t.c.id).where(t.c.user_id == user_id, t.c.reason == reason,
                             (t.c.key == f"daily:{day}") | t.c.key.startswith(f"daily:{day}:", autoescape=True),
                             _standing()).limit(1)
    )).first()
    return found is not None


async def reversed_total(conn: AsyncConnection, credit_id: int) -> int:
    """Points already taken back from a credit (a positive number)."""
    return -int((await conn.execute(
        select(func.coalesce(func.sum(t.c.points), 0)).where(t.c.reverses_id == credit_id)
    )).scalar_one())


async def window(conn: AsyncConnection, user_id: int, since: datetime) -> tuple[int, datetime | None]:
    """The points of entries counting after `since`, and the earliest such moment (when the sum
    changes next by ageing)."""
    row = (await conn.execute(
        select(func.coalesce(func.sum(t.c.points), 0).label("points"), func.min(t.c.effective_at).label("next_at"))
        .where(t.c.user_id == user_id, t.c.effective_at > since)
    )).one()
    return int(row.points), row.next_at


async def page(conn: AsyncConnection, user_id: int, *, offset: int, limit: int) -> tuple[list[EntryRow], int]:
    total = int((await conn.execute(select(func.count()).select_from(t).where(t.c.user_id == user_id))).scalar_one())
    rows = (await conn.execute(
        select(*_ENTRY).where(t.c.user_id == user_id).order_by(t.c.created_at.desc(), t.c.id.desc())
        .offset(offset).limit(limit)
    )).all()
    return [record(EntryRow, r) for r in rows], total


async def level(conn: AsyncConnection, user_id: int) -> LevelRow | None:
    row = (await conn.execute(select(*_LEVEL).where(lv.c.user_id == user_id))).first()
    return record(LevelRow, row) if row else None


async def save_level(conn: AsyncConnection, *, user_id: int, level: int, points: int, recheck_at: datetime | None,
                     now: datetime, exists: bool) -> None:
    values = {"level": level, "points": points, "recheck_at": recheck_at, "updated_at": now}
    if exists:
        await conn.execute(update(lv).where(lv.c.user_id == user_id).values(**values))
    else:
        await conn.execute(lv.insert().values(user_id=user_id, **values))


async def due_rechecks(conn: AsyncConnection, now: datetime, limit: int) -> list[int]:
    rows = (await conn.execute(
        select(lv.c.user_id).where(lv.c.recheck_at.isnot(None), lv.c.recheck_at <= now)
        .order_by(lv.c.recheck_at).limit(limit)
    )).scalars().all()
    return [int(user_id) for user_id in rows]
