"""Repository: refunds."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.tables import refunds as t


@dataclass(frozen=True, slots=True)
class RefundRow:
    id: int
    order_id: int
    user_id: int
    dispute_id: int | None
    amount_minor: int
    currency: str
    reason: str
    destination: str
    card_state: str
    card_id: int | None
    card_brand: str | None
    card_last4: str | None
    state: str
    created_at: datetime
    expected_at: datetime
    completed_at: datetime | None


_COLUMNS = tuple(t.c[f.name] for f in fields(RefundRow))


async def insert(conn: AsyncConnection, **values: object) -> int:
    result = await conn.execute(t.insert().values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def get(conn: AsyncConnection, refund_id: int) -> RefundRow | None:
    row = (await conn.execute(select(*_COLUMNS).where(t.c.id == refund_id))).first()
    return RefundRow(*row) if row else None


async def for_order(conn: AsyncConnection, order_id: int) -> list[RefundRow]:
    rows = (await conn.execute(select(*_COLUMNS).where(t.c.order_id == order_id).order_by(t.c.id))).all()
    return [RefundRow(*r) for r in rows]


async def refunded_total(conn: AsyncConnection, order_id: int) -> int:
    return int((await conn.execute(
        select(func.coalesce(func.sum(t.c.amount_minor), 0)).where(t.c.order_id == order_id)
    )).scalar_one())


async def complete(conn: AsyncConnection, refund_id: int, now: datetime) -> bool:
    result = await conn.execute(
        update(t).where(t.c.id == refund_id, t.c.state == "pending").values(state="completed", completed_at=now)
    )
    return bool(result.rowcount)
