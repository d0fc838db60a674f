"""Repository: the address book. Every query names the user, so an id alone never reaches a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, false, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import Database
from bot.db.rows import Decoder
from bot.db.tables import addresses as t

# the fields a person enters, in the order of the form
FIELDS = ("country", "recipient", "phone", "region", "city", "street", "apartment", "postal_code")


@dataclass(frozen=True, slots=True)
class AddressRow:
    id: int
    user_id: int
    country: str
    recipient: str
    phone: str
    region: str
    city: str
    street: str
    apartment: str
    postal_code: str
    is_default: bool
    created_at: datetime
    updated_at: datetime


_COLUMNS = (
    t.c.id, t.c.user_id, t.c.country, t.c.recipient, t.c.phone, t.c.region, t.c.city, t.c.street,
    t.c.apartment, t.c.postal_code, t.c.is_default, t.c.created_at, t.c.updated_at,
)


def _row(row: Any) -> AddressRow:
    return AddressRow(**{**row._mapping, "is_default": bool(row.is_default)})


_DECODE = Decoder(AddressRow, t)
_LIST_SQL = f"SELECT {_DECODE.columns()} FROM addresses WHERE user_id = ? ORDER BY created_at, id"


async def list_hot(db: Database, user_id: int) -> list[AddressRow]:
    """A user's addresses, oldest first, through the driver (`Database.fetch_all`): the list screen's one read."""
    return [_DECODE(r) for r in await db.fetch_all(_LIST_SQL, (user_id,))]


async def get(conn: AsyncConnection, user_id: int, address_id: int) -> AddressRow | None:
    row = (
        await conn.execute(select(*_COLUMNS).where(t.c.id == address_id, t.c.user_id == user_id))
    ).first()
    return _row(row) if row else None


async def added_by_flow(conn: AsyncConnection, user_id: int, flow_id: str) -> AddressRow | None:
    """The address the form `flow_id` added (if it did, and it is still there)."""
    row = (await conn.execute(select(*_COLUMNS).where(t.c.flow_id == flow_id, t.c.user_id == user_id))).first()
    return _row(row) if row else None


async def get_default(conn: AsyncConnection, user_id: int) -> AddressRow | None:
    row = (
        await conn.execute(select(*_COLUMNS).where(t.c.user_id == user_id, t.c.is_default == true()))
    ).first()
    return _row(row) if row else None


async def count(conn: AsyncConnection, user_id: int) -> int:
    return (await conn.execute(select(func.count()).select_from(t).where(t.c.user_id == user_id))).scalar_one()


async def insert(conn: AsyncConnection, user_id: int, fields: dict[str, str], *, is_default: bool,
                 now: datetime, flow_id: str | None = None) -> int:
    result = await conn.execute(
        t.insert().values(user_id=user_id, is_default=is_default, created_at=now, updated_at=now,
                          flow_id=flow_id, **fields)
    )
    (new_id,) = result.inserted_primary_key or (None,)
    assert new_id is not None
    return int(new_id)


async def update_fields(conn: AsyncConnection, user_id: int, address_id: int, fields: dict[str, str],
                        now: datetime) -> bool:
    result = await conn.execute(
        update(t).where(t.c.id == address_id, t.c.user_id == user_id).values(updated_at=now, **fields)
    )
    return bool(result.rowcount)


async def make_default(conn: AsyncConnection, user_id: int, address_id: int, now: datetime) -> bool:
    """Move the default mark to this address. Conditional: returns False when it is already the
    default or is not the user's."""
    target = (
        await conn.execute(
            select(t.c.is_default).where(t.c.id == address_id, t.c.user_id == user_id)
        )
    ).first()
    if target is None or bool(target.is_default):
        return False
    await conn.execute(
        update(t).where(t.c.user_id == user_id, t.c.is_default == true()).values(is_default=False)
    )
    result = await conn.execute(
        update(t)
        .where(t.c.id == address_id, t.c.user_id == user_id, t.c.is_default == false())
        .values(is_default=True, updated_at=now)
    )
    return bool(result.rowcount)


async def remove(conn: AsyncConnection, user_id: int, address_id: int) -> bool:
    result = await conn.execute(delete(t).where(t.c.id == address_id, t.c.user_id == user_id))
    return bool(result.rowcount)


async def newest(conn: AsyncConnection, user_id: int) -> AddressRow | None:
    """The most recently added address of the user."""
    row = (
        await conn.execute(
            select(*_COLUMNS).where(t.c.user_id == user_id).order_by(t.c.created_at.desc(), t.c.id.desc())
        )
    ).first()
    return _row(row) if row else None
