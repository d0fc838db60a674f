"""Repository: disputes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.rows import columns, record
from bot.db.tables import disputes as t
from bot.db.tables import orders as ot


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeTerms:
    """A dispute as both sides read it: what the buyer asked, how the store answered and by when,
    how it closed, and a return's way back. The buyer's row (`DisputeRow`) and the store's
    (`bot.db.seller.SellerDisputeRow`) add what each side has."""

    id: int
    order_id: int
    reason: str
    description: str  # the buyer's words
    outcome: str  # what the buyer asks for
    amount_minor: int  # the refund asked for
    currency: str
    state: str
    seller_answer: str | None
    offer_minor: int | None
    seller_note: str | None
    resolution: str | None
    refund_minor: int | None
    decide_by: datetime
    opened_at: datetime
    return_by: datetime | None = None  # a return: the day the buyer sends the item back by
    return_track: str | None = None
    returned_at: datetime | None = None
    return_problem: str | None = None  # the store says it did not come back as sent


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeRow(DisputeTerms):
    user_id: int
    photos: tuple[str, ...]
    priority: bool
    answered_at: datetime | None
    escalated_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DisputeLine:
    id: int
    order_id: int
    number: str
    reason: str
    state: str
    seller_answer: str | None
    resolution: str | None
    opened_at: datetime
    closed_at: datetime | None


_COLUMNS = columns(t, DisputeRow)


def _row(r: Any) -> DisputeRow:
    values = dict(r._mapping)
    values["photos"] = tuple(json.loads(values["photos"]))
    values["priority"] = bool(values["priority"])
    return DisputeRow(**values)


async def insert(conn: AsyncConnection, *, photos: list[str], **values: Any) -> int:
    result = await conn.execute(t.insert().values(photos=json.dumps(photos), **values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def get(conn: AsyncConnection, dispute_id: int, user_id: int | None = None) -> DisputeRow | None:
    query = select(*_COLUMNS).where(t.c.id == dispute_id)
    if user_id is not None:
        query = query.where(t.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return _row(row) if row else None


async def for_order(conn: AsyncConnection, order_id: int) -> DisputeRow | None:
    row = (await conn.execute(select(*_COLUMNS).where(t.c.order_id == order_id))).first()
    return _row(row) if row else None


@dataclass(frozen=True, slots=True)
class EscalatedLine:
    """A dispute the buyer escalated: the platform's to decide (/ops)."""

    number: str
    amount_minor: int
    currency: str
    priority: bool
    decide_by: datetime
    return_track: str | None = None  # a return the store says did not come back as sent: its track
    return_problem: str | None = None  # … and what the store says


async def escalated(conn: AsyncConnection, limit: int) -> tuple[int, list[EscalatedLine]]:
    """How many disputes wait for the platform, and the first `limit`: priority ones first, then
    the soonest decision day."""
    waiting = t.c.state == "escalated"
    total = int((await conn.execute(select(func.count()).select_from(t).where(waiting))).scalar_one())
    rows = (await conn.execute(
        select(ot.c.number, t.c.amount_minor, t.c.currency, t.c.priority, t.c.decide_by, t.c.return_track,
               t.c.return_problem)
        .select_from(t.join(ot, ot.c.id == t.c.order_id)).where(waiting)
        .order_by(t.c.priority.desc(), t.c.decide_by, t.c.id).limit(limit)
    )).all() if total else []
    return total, [EscalatedLine(r.number, r.amount_minor, r.currency, bool(r.priority), r.decide_by,
                                 r.return_track, r.return_problem) for r in rows]


async def overdue(conn: AsyncConnection, now: datetime, limit: int) -> list[int]:
    """Disputes still waiting for the store's answer after their decision day, the oldest first."""
    return [int(i) for i in (await conn.execute(
        select(t.c.id).where(t.c.state == "open", t.c.decide_by <= now).order_by(t.c.decide_by, t.c.id).limit(limit)
    )).scalars()]


async def returns_due(conn: AsyncConnection, now: datetime, sent_before: datetime, limit: int) -> list[int]:
    """Returns past their day: not sent back by `return_by`, or sent back before `sent_before`
    (the store's days to confirm it came back have passed). The rule is `return_closing`."""
    return [int(i) for i in (await conn.execute(
        select(t.c.id).where(t.c.state == "returning", or_(
            and_(t.c.returned_at.is_(None), t.c.return_by <= now), t.c.returned_at <= sent_before,
        )).order_by(t.c.id).limit(limit)
    )).scalars()]


async def set_state(conn: AsyncConnection, dispute_id: int, *, expected: tuple[str, ...], new: str,
                    **values: Any) -> bool:
    result = await conn.execute(
        update(t).where(t.c.id == dispute_id, t.c.state.in_(expected)).values(state=new, **values)
    )
    return bool(result.rowcount)


async def count(conn: AsyncConnection, user_id: int) -> tuple[int, int]:
    """(current, all) disputes of a user, over orders that are not purged."""
    row = (await conn.execute(
        select(func.count().label("all"),
               func.coalesce(func.sum(case((t.c.state != "closed", 1), else_=0)), 0).label("current"))
        .select_from(t.join(ot, ot.c.id == t.c.order_id))
        .where(t.c.user_id == user_id, ot.c.purged_at.is_(None))
    )).one()
    return int(row.current), int(row.all)


async def page(conn: AsyncConnection, user_id: int, *, offset: int, limit: int) -> list[DisputeLine]:
    """Current disputes first, then completed; newest first in each."""
    rows = (await conn.execute(
        select(t.c.id, t.c.order_id, ot.c.number, t.c.reason, t.c.state, t.c.seller_answer, t.c.resolution,
               t.c.opened_at, t.c.closed_at)
        .select_from(t.join(ot, ot.c.id == t.c.order_id))
        .where(t.c.user_id == user_id, ot.c.purged_at.is_(None))
        .order_by(case((t.c.state == "closed", 1), else_=0), t.c.opened_at.desc(), t.c.id.desc())
        .offset(offset).limit(limit)
    )).all()
    return [record(DisputeLine, r) for r in rows]
