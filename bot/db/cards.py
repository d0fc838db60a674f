"""Repository: bank cards (gateway tokens, never numbers) and their verification holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import Database
from bot.db.rows import Decoder, columns, record
from bot.db.tables import card_holds as h
from bot.db.tables import cards as t


@dataclass(frozen=True, slots=True)
class CardRow:
    id: int
    user_id: int
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    holder: str
    is_default: bool
    created_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class HoldRow:
    id: int
    user_id: int
    card_id: int | None
    gateway_hold_id: str
    orphan_token: str | None
    brand: str
    last4: str
    amount_minor: int
    currency: str
    attempts: int


_COLUMNS = columns(t, CardRow)
_ACTIVE = t.c.deleted_at.is_(None)


async def active(conn: AsyncConnection, user_id: int) -> list[CardRow]:
    """The wallet: a user's cards, oldest first."""
    rows = await conn.execute(
        select(*_COLUMNS).where(t.c.user_id == user_id, _ACTIVE).order_by(t.c.created_at, t.c.id)
    )
    return [record(CardRow, r) for r in rows]


_DECODE = Decoder(CardRow, t)
_ACTIVE_SQL = f"SELECT {_DECODE.columns()} FROM cards WHERE user_id = ? AND deleted_at IS NULL ORDER BY created_at, id"


async def active_hot(db: Database, user_id: int) -> list[CardRow]:
    """`active` through the driver (`Database.fetch_all`): the wallet screen's one read."""
    return [_DECODE(r) for r in await db.fetch_all(_ACTIVE_SQL, (user_id,))]


async def get(conn: AsyncConnection, user_id: int, card_id: int, *, deleted_too: bool = False) -> CardRow | None:
    query = select(*_COLUMNS).where(t.c.id == card_id, t.c.user_id == user_id)
    if not deleted_too:
        query = query.where(_ACTIVE)
    row = (await conn.execute(query)).first()
    return record(CardRow, row) if row else None


async def count_active(conn: AsyncConnection, user_id: int, *, besides: int | None = None) -> int:
    query = select(func.count()).select_from(t).where(t.c.user_id == user_id, _ACTIVE)
    if besides is not None:
        query = query.where(t.c.id != besides)
    return int((await conn.execute(query)).scalar_one())


async def has_any(conn: AsyncConnection, user_id: int) -> bool:
    """Whether the user ever had a card (deleted ones count)."""
    return (await conn.execute(select(t.c.id).where(t.c.user_id == user_id).limit(1))).first() is not None


async def by_fingerprint(conn: AsyncConnection, user_id: int, fingerprint: str) -> CardRow | None:
    row = (await conn.execute(
        select(*_COLUMNS).where(t.c.user_id == user_id, t.c.fingerprint == fingerprint, _ACTIVE)
    )).first()
    return record(CardRow, row) if row else None


async def token(conn: AsyncConnection, user_id: int, card_id: int) -> str | None:
    return (await conn.execute(
        select(t.c.token).where(t.c.id == card_id, t.c.user_id == user_id, _ACTIVE)
    )).scalar()


async def insert(conn: AsyncConnection, *, user_id: int, gateway: str, token: str, fingerprint: str,
                 brand: str, last4: str, exp_month: int, exp_year: int, holder: str,
                 is_default: bool, now: datetime) -> int:
    result = await conn.execute(
        t.insert().values(
            user_id=user_id, gateway=gateway, token=token, fingerprint=fingerprint, brand=brand,
            last4=last4, exp_month=exp_month, exp_year=exp_year, holder=holder,
            is_default=is_default, created_at=now,
        )
    )
    (card_id,) = result.inserted_primary_key or (None,)
    assert card_id is not None
    return int(card_id)


async def make_default(conn: AsyncConnection, user_id: int, card_id: int) -> bool:
    """Move the default to this card. False when it is gone or already the default."""
    await conn.execute(
        update(t).where(t.c.user_id == user_id, t.c.is_default.is_(True), t.c.id != card_id, _ACTIVE)
        .values(is_default=False)
    )
    result = await conn.execute(
        update(t).where(t.c.id == card_id, t.c.user_id == user_id, t.c.is_default.is_(False), _ACTIVE)
        .values(is_default=True)
    )
    return bool(result.rowcount)


async def replaced_by(conn: AsyncConnection, user_id: int, card_id: int) -> int | None:
    """The card that replaced this one as the same card reissued, if any."""
    return (await conn.execute(
        select(t.c.replaced_by).where(t.c.id == card_id, t.c.user_id == user_id)
    )).scalar()


async def set_replaced_by(conn: AsyncConnection, user_id: int, card_id: int, new_id: int) -> None:
    await conn.execute(update(t).where(t.c.id == card_id, t.c.user_id == user_id).values(replaced_by=new_id))


async def soft_delete(conn: AsyncConnection, user_id: int, card_id: int, now: datetime) -> bool:
    """Delete a card once: it leaves the wallet, loses its fingerprint and the default flag, and
    keeps its token until the gateway has forgotten it. False when it was already gone."""
    result = await conn.execute(
        update(t).where(t.c.id == card_id, t.c.user_id == user_id, _ACTIVE)
        .values(deleted_at=now, is_default=False, fingerprint=None)
    )
    return bool(result.rowcount)


async def to_detach(conn: AsyncConnection, limit: int) -> list[tuple[int, str]]:
    rows = await conn.execute(
        select(t.c.id, t.c.token).where(t.c.deleted_at.is_not(None), t.c.token.is_not(None))
        .order_by(t.c.id).limit(limit)
    )
    return [(r.id, r.token) for r in rows]


async def clear_token(conn: AsyncConnection, card_id: int, token_value: str) -> bool:
    result = await conn.execute(
        update(t).where(t.c.id == card_id, t.c.token == token_value, t.c.deleted_at.is_not(None))
        .values(token=None)
    )
    return bool(result.rowcount)


# -- holds ------------------------------------------------------------------------------------
async def insert_hold(conn: AsyncConnection, *, user_id: int, card_id: int | None, gateway: str,
                      gateway_hold_id: str, orphan_token: str | None, brand: str, last4: str,
                      amount_minor: int, currency: str, now: datetime, due_at: datetime) -> int:
    result = await conn.execute(
        h.insert().values(
            user_id=user_id, card_id=card_id, gateway=gateway, gateway_hold_id=gateway_hold_id,
            orphan_token=orphan_token, brand=brand, last4=last4, amount_minor=amount_minor,
            currency=currency, created_at=now, due_at=due_at,
        )
    )
    (hold_id,) = result.inserted_primary_key or (None,)
    assert hold_id is not None
    return int(hold_id)


_HOLD_COLUMNS = columns(h, HoldRow)


async def hold_by_gateway_id(conn: AsyncConnection, gateway_hold_id: str) -> HoldRow | None:
    row = (await conn.execute(select(*_HOLD_COLUMNS).where(h.c.gateway_hold_id == gateway_hold_id))).first()
    return record(HoldRow, row) if row else None


async def due_holds(conn: AsyncConnection, now: datetime, limit: int) -> list[HoldRow]:
    rows = await conn.execute(
        select(*_HOLD_COLUMNS)
        .where(h.c.released_at.is_(None), h.c.due_at <= now)
        .order_by(h.c.due_at, h.c.id).limit(limit)
    )
    return [record(HoldRow, r) for r in rows]


async def holds_for_user(conn: AsyncConnection, user_id: int) -> list[HoldRow]:
    rows = await conn.execute(
        select(*_HOLD_COLUMNS)
        .where(h.c.user_id == user_id).order_by(h.c.id)
    )
    return [record(HoldRow, r) for r in rows]


async def mark_released(conn: AsyncConnection, hold_id: int, now: datetime) -> bool:
    result = await conn.execute(
        update(h).where(h.c.id == hold_id, h.c.released_at.is_(None))
        .values(released_at=now, orphan_token=None)
    )
    return bool(result.rowcount)


async def postpone(conn: AsyncConnection, hold_id: int, due_at: datetime) -> None:
    await conn.execute(
        update(h).where(h.c.id == hold_id, h.c.released_at.is_(None))
        .values(due_at=due_at, attempts=h.c.attempts + 1)
    )
