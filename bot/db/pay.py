"""Repository: payment attempts (record, then call, then reconcile — `bot/services/pay.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.dialect import insert as upsert
from bot.db.rows import record
from bot.db.tables import orders as o
from bot.db.tables import payment_attempts as t

STARTED, SUCCEEDED, DECLINED, FAILED, VOIDING, VOIDED = (
    "started", "succeeded", "declined", "failed", "voiding", "voided")
UNSETTLED = (STARTED, VOIDING)  # the sweeper's: outcome unknown, or money still to give back


@dataclass(frozen=True, slots=True)
class AttemptRow:
    id: int
    order_id: int
    user_id: int
    idempotency_key: str
    gateway: str
    amount_minor: int
    currency: str
    card_id: int | None
    card_brand: str
    card_last4: str
    card_exp_month: int | None
    card_exp_year: int | None
    card_kept: bool
    state: str
    charge_id: str | None
    created_at: datetime
    finished_at: datetime | None
    checks: int
    next_check_at: datetime | None
    last_error: str | None


_COLUMNS = tuple(t.c[f.name] for f in fields(AttemptRow))


async def start(conn: AsyncConnection, **values: object) -> bool:
    """Record an attempt in state `started`, unless one with its idempotency key exists."""
    result = await conn.execute(
        upsert(t).values(state=STARTED, **values).on_conflict_do_nothing(index_elements=[t.c.idempotency_key])
    )
    return bool(result.rowcount)


async def by_key(conn: AsyncConnection, key: str) -> AttemptRow | None:
    row = (await conn.execute(select(*_COLUMNS).where(t.c.idempotency_key == key))).first()
    return record(AttemptRow, row) if row else None


async def get(conn: AsyncConnection, attempt_id: int) -> AttemptRow | None:
    row = (await conn.execute(select(*_COLUMNS).where(t.c.id == attempt_id))).first()
    return record(AttemptRow, row) if row else None


async def settle(conn: AsyncConnection, attempt_id: int, state: str, now: datetime, *,
                 expected: Sequence[str] = (STARTED,), charge_id: str | None = None) -> bool:
    """Move an attempt from one of the `expected` states to `state` (conditional: the handler and
    the sweeper settle it once). `voiding` stays due for the sweeper until the money is back."""
    values: dict[str, object] = {"state": state, "last_error": None}
    if charge_id is not None:
        values["charge_id"] = charge_id
    if state == VOIDING:
        values["next_check_at"] = now
    else:
        values.update(finished_at=now, next_check_at=None)
    result = await conn.execute(
        update(t).where(t.c.id == attempt_id, t.c.state.in_(tuple(expected))).values(**values)
    )
    return bool(result.rowcount)


async def postpone(conn: AsyncConnection, attempt_id: int, at: datetime, error: str) -> None:
    """The gateway could not be asked (or could not give the money back): ask again at `at`."""
    await conn.execute(
        update(t).where(t.c.id == attempt_id, t.c.state.in_(UNSETTLED))
        .values(checks=t.c.checks + 1, next_check_at=at, last_error=error[:120])
    )


async def due(conn: AsyncConnection, now: datetime, limit: int) -> list[AttemptRow]:
    rows = (await conn.execute(
        select(*_COLUMNS).where(t.c.state.in_(UNSETTLED), t.c.next_check_at <= now)
        .order_by(t.c.next_check_at, t.c.id).limit(limit)
    )).all()
    return [record(AttemptRow, r) for r in rows]


def unknown_outcome(order_id: ColumnElement[int]) -> Exists:
    """An SQL condition: the order has an attempt whose outcome is not known yet."""
    return exists().where(t.c.order_id == order_id, t.c.state == STARTED)


async def outcome_unknown(conn: AsyncConnection, order_id: int) -> bool:
    row = (await conn.execute(
        select(t.c.id).where(t.c.order_id == order_id, t.c.state == STARTED).limit(1)
    )).first()
    return row is not None


@dataclass(frozen=True, slots=True)
class UnansweredRow:
    """An attempt the gateway could not be asked about at its last check (/ops)."""

    id: int
    order_number: str
    amount_minor: int
    currency: str
    state: str  # started: outcome unknown; voiding: a charge to give back
    checks: int
    last_error: str
    created_at: datetime
    next_check_at: datetime | None


async def unanswered(conn: AsyncConnection, limit: int) -> tuple[int, list[UnansweredRow]]:
    """Attempts still unsettled whose last check failed (the gateway could not be asked): how many,
    and the oldest `limit` of them with their order's number."""
    where = (t.c.state.in_(UNSETTLED), t.c.last_error.is_not(None))
    total = int((await conn.execute(select(func.count()).select_from(t).where(*where))).scalar_one())
    rows = (await conn.execute(
        select(t.c.id, o.c.number.label("order_number"), t.c.amount_minor, t.c.currency, t.c.state, t.c.checks, t.c.last_error,
               t.c.created_at, t.c.next_check_at)
        .join(o, o.c.id == t.c.order_id).where(*where).order_by(t.c.created_at, t.c.id).limit(limit)
    )).all()
    return total, [record(UnansweredRow, r) for r in rows]
