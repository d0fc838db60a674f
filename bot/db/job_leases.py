"""Repository: the scheduler's job leases (one row per job: who holds it, until when)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.tables import job_leases as t


async def take(conn: AsyncConnection, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Hold the job `name` until `until` if nobody else holds it at `now` (this holder renews its
    own). Inside the caller's unit of work; the conditional UPDATE is re-checked by PostgreSQL
    after a concurrent one commits, and two first INSERTs meet on the primary key, so of several
    instances exactly one gets it."""
    result = await conn.execute(
        update(t).where(t.c.name == name, or_(t.c.lease_until <= now, t.c.holder == holder))
        .values(holder=holder, lease_until=until)
    )
    if result.rowcount:
        return True
    if (await conn.execute(select(t.c.name).where(t.c.name == name))).first() is not None:
        return False
    try:
        async with conn.begin_nested():
            await conn.execute(insert(t).values(name=name, holder=holder, lease_until=until))
    except IntegrityError:
        return False
    return True


async def holders(conn: AsyncConnection) -> dict[str, tuple[str, datetime]]:
    rows = (await conn.execute(select(t.c.name, t.c.holder, t.c.lease_until))).all()
    return {r.name: (r.holder, r.lease_until) for r in rows}
