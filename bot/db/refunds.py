"""Repository: refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.rows import columns, record
from bot.db.tables import orders
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
    charge_id: str | None  # the gateway's charge this refund returns (None: paid outside the gateway)
    gateway_refund_id: str | None  # the gateway accepted it
    submitted_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None  # the sweeper's next try; None: nothing for it to do
    last_error: str | None


_COLUMNS = columns(t, RefundRow)


async def insert(conn: AsyncConnection, **values: object) -> int:
    result = await conn.execute(t.insert().values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def get(conn: AsyncConnection, refund_id: int) -> RefundRow | None:
    row = (await conn.execute(select(*_COLUMNS).where(t.c.id == refund_id))).first()
    return record(RefundRow, row) if row else None


async def for_order(conn: AsyncConnection, order_id: int) -> list[RefundRow]:
    rows = (await conn.execute(select(*_COLUMNS).where(t.c.order_id == order_id).order_by(t.c.id))).all()
    return [record(RefundRow, r) for r in rows]


def refunded_of(order_id: Any, *, to_card: bool = False) -> ScalarSelect[Any]:
    """What has been refunded of an order (a value or a column: usable inside another select);
    `to_card`: only what went back to the card that paid (or its bank account), not to gift
    certificates."""
    query = select(func.coalesce(func.sum(t.c.amount_minor), 0)).where(t.c.order_id == order_id)
    if to_card:
        query = query.where(t.c.destination != "certificate")
    return query.scalar_subquery()


async def refunded_total(conn: AsyncConnection, order_id: int) -> int:
    return int((await conn.execute(select(refunded_of(order_id)))).scalar_one())


def refunded_by(dispute_id: Any) -> ScalarSelect[Any]:
    """What a dispute has refunded so far (a value or a column): a fast refund pays a return when it
    is sent back, before the dispute closes."""
    return select(func.coalesce(func.sum(t.c.amount_minor), 0)).where(t.c.dispute_id == dispute_id).scalar_subquery()


async def refunded_for_dispute(conn: AsyncConnection, dispute_id: int) -> int:
    return int((await conn.execute(select(refunded_by(dispute_id)))).scalar_one())


async def refunded_to_card(conn: AsyncConnection, order_id: int) -> int:
    return int((await conn.execute(select(refunded_of(order_id, to_card=True)))).scalar_one())


async def complete(conn: AsyncConnection, refund_id: int, now: datetime) -> bool:
    result = await conn.execute(
        update(t).where(t.c.id == refund_id, t.c.state == "pending").values(state="completed", completed_at=now)
    )
    return bool(result.rowcount)


async def due(conn: AsyncConnection, now: datetime, limit: int) -> list[RefundRow]:
    """Pending refunds whose next trip to the gateway is due (uses ix_refunds_due)."""
    rows = (await conn.execute(
        select(*_COLUMNS)
        .where(t.c.state == "pending", t.c.next_attempt_at.is_not(None), t.c.next_attempt_at <= now)
        .order_by(t.c.next_attempt_at).limit(limit)
    )).all()
    return [record(RefundRow, r) for r in rows]


async def record_attempt(conn: AsyncConnection, refund_id: int, *, gateway_refund_id: str | None,
                         submitted_at: datetime | None, next_attempt_at: datetime | None,
                         last_error: str | None, failed: bool) -> bool:
    """What the gateway answered: accepted (its refund id), or an error to retry at
    `next_attempt_at` (None: not by itself — an operator looks). Only while still pending."""
    values: dict[str, object] = {"next_attempt_at": next_attempt_at, "last_error": last_error}
    if gateway_refund_id is not None:
        values["gateway_refund_id"] = gateway_refund_id
    if submitted_at is not None:
        values["submitted_at"] = submitted_at
    if failed:
        values["attempts"] = t.c.attempts + 1
    result = await conn.execute(update(t).where(t.c.id == refund_id, t.c.state == "pending").values(**values))
    return bool(result.rowcount)


async def rearm(conn: AsyncConnection, refund_id: int, now: datetime) -> bool:
    """An operator's "try again": a pending refund with a charge goes back to the sweeper now."""
    result = await conn.execute(
        update(t).where(t.c.id == refund_id, t.c.state == "pending", t.c.charge_id.is_not(None))
        .values(next_attempt_at=now, attempts=0, last_error=None)
    )
    return bool(result.rowcount)


async def pending(conn: AsyncConnection, limit: int) -> list[tuple[RefundRow, str]]:
    """Pending refunds with their order's number, oldest first (the operator's list)."""
    rows = (await conn.execute(
        select(*_COLUMNS, orders.c.number).join(orders, orders.c.id == t.c.order_id)
        .where(t.c.state == "pending").order_by(t.c.id).limit(limit)
    )).all()
    return [(RefundRow(*r[:-1]), r[-1]) for r in rows]
