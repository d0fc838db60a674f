"""Repository: users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import Database
from bot.db.rows import Decoder, columns, record
from bot.db.tables import store_sellers as ss
from bot.db.tables import users as t


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    first_name: str
    username: str | None
    locale: str
    time_zone: str
    created_at: datetime
    unreachable_since: datetime | None
    # a seller of at least one store (seller mode's menu entry); read with the row, not stored in it
    is_seller: bool = False


_COLUMNS = columns(t, UserRow, is_seller=exists().where(ss.c.user_id == t.c.id))


async def get(conn: AsyncConnection, user_id: int) -> UserRow | None:
    row = (await conn.execute(select(*_COLUMNS).where(t.c.id == user_id))).first()
    return record(UserRow, row) if row else None


_DECODE = Decoder(UserRow, t, computed=("is_seller",))
# whether the user sells for a store rides along: one probe of ix_store_sellers_user, no second query
_GET_SQL = (f"SELECT {_DECODE.columns()}, "
            "EXISTS (SELECT 1 FROM store_sellers WHERE store_sellers.user_id = users.id) AS is_seller "
            "FROM users WHERE id = ?")


async def get_hot(db: Database, user_id: int) -> UserRow | None:
    """The same as `get`, on the hot path (every update): through the driver directly."""
    row = await db.fetch_one(_GET_SQL, (user_id,))
    return _DECODE(row) if row is not None else None


async def insert(conn: AsyncConnection, user: UserRow) -> None:
    await conn.execute(
        t.insert().values(
            id=user.id, first_name=user.first_name, username=user.username, locale=user.locale,
            time_zone=user.time_zone, created_at=user.created_at,
            unreachable_since=user.unreachable_since,
        )
    )


async def set_fields(conn: AsyncConnection, user_id: int, **values: object) -> bool:
    result = await conn.execute(update(t).where(t.c.id == user_id).values(**values))
    return bool(result.rowcount)


async def get_many(conn: AsyncConnection, user_ids: list[int]) -> dict[int, UserRow]:
    if not user_ids:
        return {}
    rows = (await conn.execute(select(*_COLUMNS).where(t.c.id.in_(user_ids)))).all()
    return {r.id: record(UserRow, r) for r in rows}
