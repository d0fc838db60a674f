"""Due transitions of the foundation: forget old update ids and abandoned flows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from bot.db.engine import Database
from bot.db.fsm import sweep_abandoned
from bot.db.tables import processed_updates as pu

DueFn = Callable[[datetime], Awaitable[int]]

# Telegram keeps an unconfirmed update for 24 hours; a week is a wide margin.
KEEP_UPDATE_IDS = timedelta(days=7)
ABANDONED_FLOW = timedelta(days=30)


def prune_processed_updates(db: Database) -> DueFn:
    async def run(now: datetime) -> int:
        async with db.write() as conn:
            newest = select(func.max(pu.c.update_id)).scalar_subquery()
            result = await conn.execute(
                # the newest id stays, so offline tools can continue numbering after it
                delete(pu).where(pu.c.created_at < now - KEEP_UPDATE_IDS, pu.c.update_id < newest)
            )
            return result.rowcount or 0

    return run


def sweep_abandoned_flows(db: Database) -> DueFn:
    async def run(now: datetime) -> int:
        return await sweep_abandoned(db, now - ABANDONED_FLOW)

    return run


async def last_update_id(db: Database) -> int:
    async with db.read() as conn:
        return (await conn.execute(select(func.max(pu.c.update_id)))).scalar() or 0
